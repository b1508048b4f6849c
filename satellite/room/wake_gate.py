"""Is an utterance meant for the assistant? The wake word, the follow-up window, the name.

- ``none``: every utterance is.
- ``micro`` / ``openwakeword``: when the wake word was heard in it or shortly
  before it (``WAKE_WINDOW_S``). The model runs on its own thread, in order,
  never on the event loop; a backlog beyond ``WAKE_BACKLOG_S`` is dropped
  and counted, and an utterance waits for the model to have heard it.
- ``phrase``: decided from the transcript, which must start with the name.
- After a reply, ``wake.followup_s`` in which no wake word is needed.
- After the wake word alone ("Okay Nabu" … pause …), ``wake.question_wait_s`` in
  which the next utterance is the question.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from satellite.config.schema import Config
from satellite.engines.wake import WakeWordDetector, after_wake_phrase, strip_wake_phrase
from satellite.room.segmenter import UtteranceEnded
from satellite.runtime.metrics import Metrics

_LOGGER = logging.getLogger(__name__)

WAKE_BACKLOG_S = 3.0  # audio waiting for the wake word model beyond this is dropped and counted
WAKE_WINDOW_S = 5.0  # an utterance starting this long after the wake word still counts
MODEL_MODES = ("micro", "openwakeword")
_NON_WORDS = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*")


def has_words(text: str) -> bool:
    """False for empty transcripts and Whisper's non-speech tags ([BLANK_AUDIO], (music))."""
    return bool(re.search(r"\w", _NON_WORDS.sub("", text)))


class WakeGate:
    def __init__(self, config: Config, detector: WakeWordDetector | None, metrics: Metrics,
                 on_wake_word: Callable[[float], None]):
        self.config = config
        self.detector = detector
        self.metrics = metrics
        self.on_wake_word = on_wake_word
        self.wake_s: float | None = None  # stream time of the last wake word heard
        self.followup_from = 0.0  # wall clock: the follow-up window opens when a reply ends
        self.followup_until = 0.0
        self.question_from = 0.0  # wall clock: the wake word was said alone; the question may follow
        self.question_until = 0.0
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

    def hear(self, audio: bytes, stream_s: float, live: bool = True) -> None:
        """Hand a chunk to the model's thread. From a live source a backlog is counted and
        dropped (the room goes on); audio read faster than real time (a file) waits its turn."""
        assert self.detector is not None
        seconds = len(audio) / 32000  # 16 kHz 16-bit mono
        if live and self._backlog_s + seconds > WAKE_BACKLOG_S:
            self.metrics.audio_overruns.labels(device="wake").inc()
            return
        self.backlog += 1
        self._backlog_s += seconds
        future = asyncio.get_running_loop().run_in_executor(
            self._executor, self.detector.process, audio, stream_s)
        future.add_done_callback(lambda done: self._heard(done, stream_s, seconds))

    def _heard(self, done: asyncio.Future[bool], stream_s: float, seconds: float) -> None:
        self.backlog -= 1
        self._backlog_s -= seconds
        if done.cancelled():
            return
        if done.exception() is not None:
            _LOGGER.error("wake word model failed", exc_info=done.exception())
        elif done.result():
            assert self.detector is not None
            _LOGGER.info("wake word %s heard", self.detector.name)
            self.wake_s = stream_s
            self.on_wake_word(stream_s)

    def reset(self) -> None:
        """Forget the model's streaming window when the room stops hearing (a reply, HA's run):
        frozen on the wake word that started the gap, it heard that wake word again once the
        audio resumed, past the refractory time (a second run sent to HA). Runs on the model's
        thread, after the chunks handed to it before."""
        if self.detector is not None:
            asyncio.get_running_loop().run_in_executor(self._executor, self.detector.reset)

    async def drain(self) -> None:
        """Until the model has heard every chunk handed to it so far."""
        if self.detector is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, lambda: None)
            await asyncio.sleep(0)  # let the last result callbacks run

    def must_wait_for_model(self, event: UtteranceEnded, wall_offset: float) -> bool:
        return self.detector is not None and self.backlog > 0 and not self.in_followup(
            event, wall_offset)

    # -- decisions -------------------------------------------------------------------------------

    def woken_since(self, stream_s: float) -> bool:
        return self.wake_s is not None and self.wake_s >= stream_s

    def in_followup(self, event: UtteranceEnded, wall_offset: float) -> bool:
        """Started inside the window after a reply (not during it: that is the reply's echo)."""
        return self.followup_from <= event.start_s + wall_offset <= self.followup_until

    def addressed(self, event: UtteranceEnded, wall_offset: float) -> bool | None:
        """True: a turn. False: not for us. None: decided by the transcript (phrase mode)."""
        if self.mode == "none" or self.in_followup(event, wall_offset):
            return True
        if self.question_from <= event.start_s + wall_offset <= self.question_until:
            self.question_until = 0.0  # this is the question the wake word announced
            return True
        if self.mode == "phrase":
            return None
        return self.heard_in(event)

    def heard_in(self, event: UtteranceEnded) -> bool:
        """Whether the wake word model fired inside this utterance."""
        return self.mode in MODEL_MODES and self.wake_s is not None and (
            event.audio_start_s - WAKE_WINDOW_S <= self.wake_s <= event.decided_s + 0.1)

    def consume(self) -> float | None:
        """One wake word, one turn: the stream time it was heard at, if a model heard it."""
        heard, self.wake_s = self.wake_s, None
        return heard if self.mode in MODEL_MODES else None

    def speculation_worthwhile(self, last_voiced_s: float, now: float) -> bool:
        """Transcribe ahead only speech that may become a turn."""
        if self.mode not in MODEL_MODES or now < self.followup_until:
            return True
        return self.woken_since(last_voiced_s - 30.0)

    def await_question(self, now: float) -> float:
        """The wake word was said alone: the next utterance, if it starts within
        ``wake.question_wait_s``, is the question. Returns the window's end."""
        self.question_from = now - 1.0  # it may have started while the wake word was decided
        self.question_until = now + self.config.wake.question_wait_s
        return self.question_until

    def awaiting_question(self, now: float) -> bool:
        return now <= self.question_until

    def open_followup(self, now: float) -> None:
        self.followup_from = now
        self.followup_until = now + self.config.wake.followup_s

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
