"""The VAD front end of the room: 16 kHz audio chunks → VAD frames → segment events.

Keeps the stream's own clock (seconds of audio fed) and its offset to the
wall clock, so an utterance's stream times can be compared with wall-clock
deadlines (follow-up window, last voiced frame → first reply audio). While the
capture is gated (the assistant is speaking), frames are skipped, not judged.
"""

from __future__ import annotations

import collections
from typing import Any

from satellite.audio.pcm import Pcm
from satellite.config.schema import Config
from satellite.engines.vad import VoiceActivityDetector
from satellite.room.segmenter import SegmentEvent, VadSegmenter

OFFSETS_KEPT = 200  # chunks (4 s of 20 ms reads) over which the input's pace is judged


def segmenter_options(config: Config) -> dict[str, Any]:
    return {"preroll_ms": config.vad.preroll_ms, "hangover_ms": config.vad.hangover_ms,
            "min_speech_ms": config.vad.min_speech_ms,
            "max_utterance_s": config.vad.max_utterance_s, "speculate_ms": config.vad.speculate_ms,
            "sound_gap_ms": config.vad.sound_gap_ms}


class VadFrontEnd:
    def __init__(self, config: Config, vad: VoiceActivityDetector):
        self.vad = vad
        self.segmenter = VadSegmenter(vad.frame_samples, **segmenter_options(config))
        self._buffer = b""
        self.stream_s = 0.0  # stream time of the audio fed so far
        self.wall_offset = 0.0  # wall clock minus stream time, as of the last chunk
        self._offsets: collections.deque[float] = collections.deque(maxlen=OFFSETS_KEPT)

    def reconfigure(self, config: Config) -> None:
        self.vad.configure(config.vad)
        self.segmenter.configure(**segmenter_options(config))

    def feed(self, pcm: Pcm, now: float, *, gated: bool) -> list[SegmentEvent]:
        """Take one chunk heard at wall time ``now``; the segment events its frames complete."""
        self.stream_s += pcm.seconds
        self.wall_offset = now - self.stream_s
        self._offsets.append(self.wall_offset)
        self._buffer += pcm.audio
        size = self.vad.frame_bytes
        whole = len(self._buffer) // size
        frames = [self._buffer[i * size:(i + 1) * size] for i in range(whole)]
        self._buffer = self._buffer[whole * size:]
        if gated:
            self.segmenter.skip(whole)
            return []
        events: list[SegmentEvent] = []
        for frame in frames:
            events.extend(self.segmenter.feed(frame, self.vad.is_speech(frame)))
        return events

    def reset(self) -> None:
        """Forget the speech in progress (the capture was just gated)."""
        self.segmenter.reset()
        self.vad.reset()

    def flush(self) -> list[SegmentEvent]:
        return self.segmenter.flush()

    @property
    def ahead_s(self) -> float:
        """How far the audio ran ahead of real time over the last chunks (~4 s of them): a file
        read as fast as it goes, seconds; a microphone, about 0 (a backlog ages out)."""
        return max(self._offsets, default=self.wall_offset) - self.wall_offset

    def wall_time(self, stream_s: float) -> float:
        return stream_s + self.wall_offset

    @property
    def voiced_ms(self) -> float:
        """Voiced audio in the speech in progress (barge-in needs enough of it)."""
        return self.segmenter.voiced_ms
