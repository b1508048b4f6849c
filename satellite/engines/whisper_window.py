"""A shorter encoder window for short questions: the largest single cut in reply latency.

faster-whisper pads every input to Whisper's 30 s window (3000 mel frames)
before the encoder, so a 2 s command costs as much as 30 s of speech: on a
2-core box the encoder is most of the STT time. CTranslate2's encoder takes
fewer frames, and its cost falls with them. On the dev set (40 questions,
tiny.en, beam 5) a 10 s window is ~4x cheaper than 30 s and its WER is no
worse (10.3 % vs 11.8 %); below ~8 s the model starts to repeat itself, so the
window never shrinks below ``stt.window_s`` and always leaves 5 s of silence
after the audio (docs/benchmarks.md).

faster-whisper (pinned) looks ``pad_or_trim`` up in its ``transcribe`` module
each time it cuts a segment; ``install()`` puts a version there that pads to
the window the calling thread asked for with ``window(frames)``, and to 30 s
otherwise (any other caller is unaffected).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

_LOGGER = logging.getLogger(__name__)
FULL_FRAMES = 3000  # Whisper's 30 s window, 100 mel frames a second
TAIL_FRAMES = 500  # silence always left after the audio in a shortened window

_local = threading.local()
_installed: Callable[..., Any] | None = None


def window_frames(audio_frames: int, min_frames: int) -> int:
    """The encoder window for ``audio_frames`` of audio: at least ``min_frames``, the audio plus
    a 5 s tail, at most Whisper's 30 s."""
    return min(FULL_FRAMES, max(min_frames, audio_frames + TAIL_FRAMES))


def install() -> bool:
    """Make faster-whisper's padding window-aware (once per process). False if this
    faster-whisper has no hook for it: then every input keeps the 30 s window."""
    global _installed
    if _installed is not None:
        return True
    from faster_whisper import transcribe

    original = getattr(transcribe, "pad_or_trim", None)
    if original is None:
        _LOGGER.warning("this faster-whisper has no pad_or_trim hook: STT keeps the 30 s window")
        return False

    def pad_to_window(array: Any, length: int = FULL_FRAMES, *, axis: int = -1) -> Any:
        wanted = getattr(_local, "frames", None)
        if wanted is not None and length == FULL_FRAMES and array.shape[axis] < wanted:
            length = wanted
        return original(array, length, axis=axis)

    transcribe.pad_or_trim = pad_to_window
    _installed = pad_to_window
    return True


@contextlib.contextmanager
def window(frames: int) -> Iterator[None]:
    """Within this block, this thread's transcriptions pad to ``frames`` mel frames."""
    _local.frames = frames
    try:
        yield
    finally:
        _local.frames = None
