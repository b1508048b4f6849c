"""Whisper's second check of the wake word (``wake.check``).

The wake word model wakes the box on words that only sound like its phrase: okay_nabu at its
own cutoff woke on about one in four synthesized "Okay, ..." sentences that never say "Nabu"
("Okay, bamboo.", "Okay, now listen.", "OK, now go."), and it misses half the wake words said
in 10 dB of noise. With the check, a lower score (``check_from``) makes a candidate, and the
box wakes only if Whisper, reading the candidate's audio, finds the phrase about as likely as
what it hears there itself (``WindowDecoder.phrase_odds`` at least ``min_logodds``): fewer
wakes on near misses, more wake words heard in noise (docs/benchmarks.md, "Whisper checks the
wake word"). Whisper base does not know the word "Nabu" (it hears "Okay, now boo."), so the
bar is a ratio, not a transcript.

Over the box's own voice the model decides alone at its cutoff there (a barge-in must be
quick), and Whisper checks what scores under it: over a reply, through the canceller, okay_nabu
peaked under 0.6 on 6 of 40 wake words, and the check wakes on 3 of them; 30 min of the box's
own voice made no candidate (docs/benchmarks.md). The check needs a local Whisper; with a
remote or no STT, or a second wake model, the model decides alone and ``/status`` says why.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from satellite.audio.pcm import STT_RATE_HZ, Pcm
from satellite.config.schema import WakeConfig
from satellite.engines.wake import WakeCandidate, WakeWordDetector
from satellite.engines.whisper_decode import PhraseOdds
from satellite.runtime.metrics import Metrics

_LOGGER = logging.getLogger(__name__)

CHECK_BEFORE_S = 1.2  # Whisper reads from this long before the candidate's start...
KEPT_S = 4.0  # ...out of the room's last seconds of audio, kept for it
CHECK_TIMEOUT_S = 5.0  # a reading later than this: the model's own cutoff decides

# Measured models (scripts/bench_wake.py --check): the score that asks Whisper. Others are
# checked only when ``wake.check: on``, from their own cutoff.
MEASURED = {"okay_nabu": 0.1}
# Where the measured model is sure (its score this high), Whisper only has to find the phrase
# SURE_MARGIN less likely than the bar: okay_nabu scored 0.99-1.00 on the four clean wake words
# of the held-out set the check refused (accented espeak-ng voices, a slow Piper one: log-odds
# -14.1 to -18.1), and no candidate that high was in the 10.93 h without a wake word (one at
# 0.88, -23.2); near misses woken 84 -> 96 of 576 (docs/benchmarks.md).
SURE_FROM = {"okay_nabu": 0.98}
SURE_MARGIN = 5.0

# How Whisper writes each shipped phrase (the best reading counts)
READINGS = {
    "okay_nabu": ("Okay, Nabu.", "Okay Nabu", "OK, Nabu.", "Okay, Naboo."),
    "hey_jarvis": ("Hey, Jarvis.", "Hey Jarvis"),
    "alexa": ("Alexa.", "Alexa,"),
    "hey_mycroft": ("Hey, Mycroft.", "Hey Mycroft"),
    "hey_rhasspy": ("Hey, Rhasspy.", "Hey Rhasspy"),
}


def readings(model_id: str, phrase: str) -> tuple[str, ...]:
    """The ways Whisper may write the phrase: the shipped ones, else the phrase capitalized with
    and without a comma after its first word."""
    if model_id in READINGS:
        return READINGS[model_id]
    words = [w.capitalize() for w in re.findall(r"[\w']+", phrase)]
    if not words:
        return ()
    plain = " ".join(words)
    return (f"{words[0]}, {' '.join(words[1:])}." if len(words) > 1 else f"{plain}.", plain)


class RecentAudio:
    """The room's last ``kept_s`` seconds, by stream time (the audio the wake word model heard)."""

    def __init__(self, kept_s: float = KEPT_S):
        self.kept_s = kept_s
        self._chunks: collections.deque[tuple[float, bytes]] = collections.deque()  # (end_s, audio)

    def feed(self, audio: bytes, end_s: float) -> None:
        self._chunks.append((end_s, audio))
        while self._chunks and self._chunks[0][0] < end_s - self.kept_s:
            self._chunks.popleft()

    def window(self, start_s: float, end_s: float) -> Pcm:
        """What was heard from ``start_s`` to ``end_s`` (less where it is no longer kept, or the
        room was not heard: the pieces are joined)."""
        out = bytearray()
        for chunk_end, audio in self._chunks:
            chunk_start = chunk_end - len(audio) / (2 * STT_RATE_HZ)
            if chunk_end <= start_s or chunk_start >= end_s:
                continue
            first = max(0, round((start_s - chunk_start) * STT_RATE_HZ)) * 2
            last = min(len(audio), round((end_s - chunk_start) * STT_RATE_HZ) * 2)
            out += audio[first:last]
        return Pcm(bytes(out), STT_RATE_HZ)

    def clear(self) -> None:
        self._chunks.clear()


@dataclass(frozen=True)
class WakeCheck:
    """The check's settings for one model: candidates from ``check_from``, a wake word at
    ``min_logodds`` or better, the phrase as Whisper may write it."""

    check_from: float
    min_logodds: float
    readings: tuple[str, ...]
    sure_from: float | None = None  # a score from which the bar is SURE_MARGIN lower

    def bar(self, peak: float) -> float:
        """The log-odds a candidate whose score peaked at ``peak`` needs."""
        sure = self.sure_from is not None and peak >= self.sure_from
        return self.min_logodds - SURE_MARGIN if sure else self.min_logodds

    def describe(self) -> str:
        sure = (f", {self.bar(self.sure_from):g} where the model scores {self.sure_from:g} or more"
                if self.sure_from is not None else "")
        return (f"Whisper checks scores from {self.check_from:g} (log-odds {self.min_logodds:g} "
                f"or better wakes{sure})")


def wake_check_for(config: WakeConfig, detector: WakeWordDetector | None, stt: Any,
                   language: str = "en") -> tuple[WakeCheck | None, str]:
    """The check this room runs (or None) and why, for ``/status``. ``language``: the STT's
    (the check was measured with English speech)."""
    if config.check == "off":
        return None, "wake.check is off"
    if detector is None or config.engine not in ("micro", "openwakeword"):
        return None, "no wake word model"
    if config.engine == "micro" and config.second_model != "off":
        return None, "wake.second_model already checks the wake word"
    if not hasattr(stt, "phrase_odds"):
        return None, "the STT is not a local Whisper"
    model_id = detector.name.split(":", 1)[1]
    measured = MEASURED.get(model_id)
    if measured is None and config.check == "auto":
        return None, f"not measured for {model_id} (wake.check: on checks it)"
    if language != "en" and config.check == "auto":
        return None, f"measured with English speech only, the STT hears {language!r} (wake.check: on)"
    cutoff = config.threshold or getattr(detector, "model_cutoff", 0.5)
    phrases = readings(model_id, detector.phrase)
    if not phrases:
        return None, "the wake word has no words to check"
    return WakeCheck(config.check_from or measured or cutoff, config.check_min_logodds, phrases,
                     SURE_FROM.get(model_id)), ""


class WakeChecker:
    """The check as the room runs it: candidates read in order, one at a time (up to
    ``MAX_WAITING`` wait their turn: a slow box, or audio read faster than real time), and
    ``on_wake`` called with where the model fired (``WakeCandidate.fired_s``) for each that
    passes, ``on_rejected`` for each that does not. A reading that fails or takes longer than ``CHECK_TIMEOUT_S`` leaves the decision to
    the model's own ``cutoff``."""

    MAX_WAITING = 3

    def __init__(self, check: WakeCheck | None,
                 read: Callable[[Pcm, Sequence[str]], Awaitable[PhraseOdds]],
                 on_wake: Callable[[float], None], metrics: Metrics, cutoff: float,
                 on_rejected: Callable[[float], None] | None = None):
        self.check = check
        self.read = read
        self.on_wake = on_wake
        self.on_rejected = on_rejected
        self.metrics = metrics
        self.cutoff = cutoff
        self._waiting: collections.deque[tuple[WakeCandidate, Pcm]] = collections.deque(
            maxlen=self.MAX_WAITING)
        self._task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None

    def candidate(self, candidate: WakeCandidate, pcm: Pcm) -> None:
        """Read ``pcm`` (the candidate's window: from ``CHECK_BEFORE_S`` before its start to its
        end) and decide."""
        if self.check is None:
            return
        self._waiting.append((candidate, pcm))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(),
                                                                name="wake word check")

    async def _run(self) -> None:
        try:
            while self._waiting and self.check is not None:
                candidate, pcm = self._waiting.popleft()
                if await self._read(self.check, candidate, pcm):
                    self.on_wake(candidate.fired_s)
                elif self.on_rejected is not None:
                    self.on_rejected(candidate.fired_s)
        finally:
            self._waiting.clear()
            self._task = None

    async def _read(self, check: WakeCheck, candidate: WakeCandidate, pcm: Pcm) -> bool:
        try:
            odds = await asyncio.wait_for(self.read(pcm, check.readings), CHECK_TIMEOUT_S)
        except Exception as error:  # never costs the room its wake word
            self.metrics.wake_checks.labels(outcome="failed").inc()
            _LOGGER.warning("wake word check failed (%s: %s): score %.2f, the cutoff %.2f decides",
                            error.__class__.__name__, error, candidate.peak, self.cutoff)
            return candidate.peak >= self.cutoff
        woke = odds.logodds >= check.bar(candidate.peak)
        self.metrics.wake_checks.labels(outcome="woke" if woke else "rejected").inc()
        _LOGGER.info("wake word %s (score %.2f): Whisper heard %r, %r at log-odds %.1f",
                     "heard" if woke else "not heard", candidate.peak, odds.heard, odds.phrase,
                     odds.logodds)
        return woke

    async def settled(self) -> None:
        """Until the candidates waiting (if any) are decided."""
        task = self._task
        if task is not None:
            await asyncio.wait({task}, timeout=(CHECK_TIMEOUT_S + 1.0) * (self.MAX_WAITING + 1))

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()


__all__ = ["CHECK_BEFORE_S", "CHECK_TIMEOUT_S", "MEASURED", "READINGS", "SURE_FROM", "SURE_MARGIN",
           "RecentAudio", "WakeCheck", "WakeChecker", "readings", "wake_check_for"]
