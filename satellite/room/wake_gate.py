"""The wake word: the model that hears it, and the question in a transcript that starts with it.

- ``micro`` / ``openwakeword``: the model runs on its own thread, in order,
  never on the event loop; a backlog beyond ``WAKE_BACKLOG_S`` is dropped and
  counted, and an utterance waits for the model to have heard it. What a wake
  word means (a turn, a barge-in, the windows after it) is the room's state
  machine's to decide (``machine.py``).
- ``phrase``: the transcript must start with the name.
- ``none``: every utterance is for the box.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from satellite.audio.pcm import Pcm
from satellite.config.schema import Config
from satellite.engines.wake import (
    WakeCandidate,
    WakeWordDetector,
    after_wake_phrase,
    strip_wake_phrase,
)
from satellite.room.wake_check import CHECK_BEFORE_S, RecentAudio
from satellite.runtime.metrics import Metrics

_LOGGER = logging.getLogger(__name__)
_Heard = tuple[bool, WakeCandidate | None, Pcm | None, bool]

WAKE_BACKLOG_S = 3.0  # audio waiting for the wake word model beyond this is dropped and counted
_NON_WORDS = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*")


def has_words(text: str) -> bool:
    """False for empty transcripts and Whisper's non-speech tags ([BLANK_AUDIO], (music))."""
    return bool(re.search(r"\w", _NON_WORDS.sub("", text)))


class WakeGate:
    def __init__(self, config: Config, detector: WakeWordDetector | None, metrics: Metrics,
                 on_wake_word: Callable[[float], None],
                 on_candidate: Callable[[WakeCandidate, Pcm], None] | None = None):
        self.config = config
        self.detector = detector
        self.metrics = metrics
        self.on_wake_word = on_wake_word
        self.on_candidate = on_candidate  # a wake word for Whisper to check (``wake.check``)
        self.hearing_candidate = False  # a candidate hears its phrase out (its end not yet heard)
        # with the check: the audio the model heard last, kept on its thread (in step with it
        # however far behind it runs), for the candidate's window
        self.recent: RecentAudio | None = None
        self.backlog = 0  # chunks handed to the model and not yet heard
        self._backlog_s = 0.0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wake")

    @property
    def mode(self) -> str:
        return self.config.wake.engine

    def reconfigure(self, config: Config) -> None:
        self.config = config
        if self.detector is not None:
            self.detector.configure(config.wake)

    # -- the wake word model ---------------------------------------------------------------------

    def listening(self) -> bool:
        """Whether a model hears the room. Also inside the follow-up window: a follow-up that
        starts with the wake word is cut at it like any other (a cheap model: ~1.6 % CPU)."""
        return self.detector is not None

    def hear(self, audio: bytes, stream_s: float, live: bool = True,
             over_voice: bool = False) -> None:
        """Hand a chunk to the model's thread. From a live source a backlog is counted and
        dropped (the room goes on); audio read faster than real time (a file) waits its turn.
        ``over_voice``: the chunk was heard while the box spoke (the model's cutoff then)."""
        assert self.detector is not None
        seconds = len(audio) / 32000  # 16 kHz 16-bit mono
        if live and self._backlog_s + seconds > WAKE_BACKLOG_S:
            self.metrics.audio_overruns.labels(device="wake").inc()
            return
        self.backlog += 1
        self._backlog_s += seconds
        future = asyncio.get_running_loop().run_in_executor(
            self._executor, self._process, audio, stream_s, over_voice)
        future.add_done_callback(lambda done: self._heard(done, stream_s, seconds))

    def _process(self, audio: bytes, stream_s: float, over_voice: bool) -> _Heard:
        """On the model's thread: whether it heard the wake word, the candidate and its audio
        if Whisper is to check it, and whether a candidate still hears its phrase out."""
        assert self.detector is not None
        recent = self.recent
        if recent is not None:
            recent.feed(audio, stream_s)
        self.detector.hearing_over_voice(over_voice)
        heard = self.detector.process(audio, stream_s)
        candidate = self.detector.candidate if heard else None
        window = (recent.window(candidate.start_s - CHECK_BEFORE_S, candidate.end_s)
                  if candidate is not None and recent is not None else None)
        return heard, candidate, window, self.detector.hearing_candidate

    def _heard(self, done: asyncio.Future[_Heard], stream_s: float, seconds: float) -> None:
        self.backlog -= 1
        self._backlog_s -= seconds
        if done.cancelled():
            return
        if done.exception() is not None:
            _LOGGER.error("wake word model failed", exc_info=done.exception())
            return
        heard, candidate, window, self.hearing_candidate = done.result()
        if not heard:
            return
        assert self.detector is not None
        if candidate is not None and window is not None and self.on_candidate is not None:
            _LOGGER.info("wake word %s? (score %.2f): Whisper checks it", self.detector.name,
                         candidate.peak)
            self.on_candidate(candidate, window)
        else:
            _LOGGER.info("wake word %s heard", self.detector.name)
            self.on_wake_word(stream_s)

    def reset(self) -> None:
        """Forget the model's streaming window when the room stops hearing (a reply, HA's run):
        frozen on the wake word that started the gap, it heard that wake word again once the
        audio resumed, past the refractory time (a second run sent to HA). Runs on the model's
        thread, after the chunks handed to it before."""
        self.hearing_candidate = False
        if self.detector is not None:
            asyncio.get_running_loop().run_in_executor(self._executor, self.detector.reset)

    async def drain(self) -> None:
        """Until the model has heard every chunk handed to it so far."""
        if self.detector is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, lambda: None)
            await asyncio.sleep(0)  # let the last result callbacks run

    @property
    def behind(self) -> bool:
        """The model has not heard every chunk handed to it yet."""
        return self.detector is not None and self.backlog > 0

    @property
    def behind_s(self) -> float:
        """How much audio handed to the model it has not heard yet."""
        return self._backlog_s if self.detector is not None else 0.0

    def question(self, transcript: str, woken: bool) -> str | None:
        """The question in a transcript, or None when it is not addressed (phrase mode)."""
        text = transcript.strip()
        if self.mode == "phrase" and not woken:
            stripped = strip_wake_phrase(text, self.config.wake.phrase)
            if stripped is None:
                _LOGGER.debug("'%s' does not start with '%s': ignored", text, self.config.wake.phrase)
                return None
            return stripped or text
        if self.detector is not None:  # the question is what follows the wake word
            after = after_wake_phrase(text, self.detector.phrase)
            if after is not None:
                return after if has_words(after) else ""  # "" = the wake word alone
        return text

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
