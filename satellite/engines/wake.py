"""Wake word detection on the raw 16 kHz stream: microWakeWord and openWakeWord models.

Both take 16 kHz mono s16le audio in any chunk size and say when their phrase
was heard. A detection is followed by a refractory time during which the same
phrase is not reported again (one "hey jarvis" is one wake-up). The ``phrase``
mode (the transcript starts with the assistant's name) needs no model and lives
in the turn-taking logic (``satellite.daemon.turns``).

microWakeWord's models run on pymicro-wakeword's own TensorFlow Lite library, or on
LiteRT where that library does not load (``satellite.engines.wake_litert``).
"""

from __future__ import annotations

import logging
import re
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from satellite.config.schema import WakeConfig
from satellite.engines.wake_litert import (
    LiteRtMicroWakeWord,
    MicroModelSettings,
    MicroRuntime,
    choose_micro_runtime,
    probe_micro_runtimes,
)
from satellite.errors import ModelError

_LOGGER = logging.getLogger(__name__)
OPENWAKEWORD_CUTOFF = 0.5  # openWakeWord's own recommended default
# With Whisper's check (``wake.check``): a candidate hears this long after its score first
# reaches ``check_from`` (the rest of the phrase), and Whisper reads from ``CHECK_BEFORE_S``
# before that point to the candidate's end (``satellite.room.wake_check``)
CHECK_AFTER_S = 0.8
CHECK_TAIL_S = 0.25  # ...or this long after the score reached the model's cutoff, if it did

# The cutoff while the box speaks and the room is heard over it (barge-in): what the echo
# canceller leaves of the box's voice, and what it takes of a person's voice said over it, bring
# the wake word's score down. okay_nabu over a reply, through AEC3: 24 of 40 clips heard at its
# 0.85, 34 at 0.6, and no wake in an hour of the box's own voice down to 0.5
# (scripts/bench_wake_over_reply.py); the cost: a television talking over the box wakes it 1.26
# times per hour at 0.6 against 0.25 at 0.85 (docs/benchmarks.md). Other models: unmeasured,
# their own.
OVER_VOICE_CUTOFFS = {"okay_nabu": 0.6}

# microWakeWord's shipped models that openWakeWord also ships (a second opinion, ``SecondOpinion``)
OPENWAKEWORD_TWINS = ("okay_nabu", "hey_jarvis", "alexa", "hey_mycroft")

# The words each shipped model listens for, to strip them from a transcript.
SHIPPED_PHRASES = {
    "okay_nabu": "okay nabu",
    "hey_jarvis": "hey jarvis",
    "alexa": "alexa",
    "hey_mycroft": "hey mycroft",
    "hey_rhasspy": "hey rhasspy",
}


class WakeWordDetector(Protocol):
    name: str
    phrase: str

    def process(self, audio: bytes, stream_s: float) -> bool:
        """Feed audio that ends at ``stream_s``; True once per detected wake word."""

    def hearing_over_voice(self, over: bool) -> None:
        """Whether the audio fed next is heard over the box's own voice (its cutoff then)."""

    @property
    def candidate(self) -> WakeCandidate | None:
        """What the last True of ``process`` was when Whisper checks it (None: a wake word)."""

    def check_from(self, score: float) -> None:
        """Scores from ``score`` are candidates for Whisper's check (0: the model alone)."""

    @property
    def hearing_candidate(self) -> bool:
        """A candidate for the check is hearing its phrase out."""

    def reset(self) -> None: ...

    def configure(self, config: WakeConfig) -> None: ...


@dataclass(frozen=True)
class WakeCandidate:
    """A wake word for Whisper to check (``wake.check``): where the model's score first reached
    ``check_from``, where the model would have fired alone (its score first at the cutoff;
    else where it peaked: the phrase's end, where the question starts), and its highest score,
    up to ``end_s``."""

    start_s: float
    fired_s: float
    peak: float
    end_s: float = 0.0
    at_cutoff: bool = False  # the score reached the cutoff (the phrase has ended by then)


class WakeDecision:
    """When a model's probabilities are a wake word: ``min_frames`` of them in a row at or above
    the threshold (one is the models' own rule; more asks a phrase to be heard for longer, which
    speech that only brushes the cutoff is not), then a refractory time. While ``over_voice``
    (the box speaks), ``threshold_over_voice`` is the cutoff. Shared by both engines, pure: fed
    plain (probability, stream time) pairs.

    With ``check_from`` (Whisper checks the wake word, ``wake.check``), a score at or above it
    starts a ``WakeCandidate`` (over the box's voice, one below ``threshold_over_voice``: at
    that cutoff the model decides at once, a barge-in is quick); once its phrase is heard out
    (``CHECK_TAIL_S`` after the score reached the cutoff, else ``CHECK_AFTER_S`` after it first
    rose) the decision says True with the candidate in ``candidate``, whatever the score reached
    (the check decides; ``min_frames`` does not apply)."""

    def __init__(self, threshold: float, refractory_s: float, min_frames: int = 1,
                 threshold_over_voice: float = 0.0, check_from: float = 0.0):
        self.threshold = threshold
        self.threshold_over_voice = threshold_over_voice or threshold
        self.over_voice = False
        self.refractory_s = refractory_s
        self.min_frames = max(1, min_frames)
        self.check_from = check_from
        self.candidate: WakeCandidate | None = None  # the last detection's, when it is checked
        self.pending: WakeCandidate | None = None  # a candidate still hearing its phrase out
        self._last_s: float | None = None
        self._run = 0  # probabilities in a row at or above the threshold
        self.last_probability = 0.0
        self.fired = 0.0  # the probability of the last detection (the home's claims weigh it)

    def decide(self, probability: float, stream_s: float) -> bool:
        self.last_probability = max(self.last_probability, probability)
        if self.check_from and (not self.over_voice or probability < self.threshold_over_voice):
            return self._check(probability, stream_s)
        self.pending = None
        if probability < (self.threshold_over_voice if self.over_voice else self.threshold):
            self._run = 0
            return False
        self._run += 1
        if self._run < self.min_frames:
            return False
        if self._last_s is not None and stream_s - self._last_s < self.refractory_s:
            return False
        self._last_s = stream_s
        self.fired = probability
        self.candidate = None
        return True

    def _check(self, probability: float, stream_s: float) -> bool:
        pending = self.pending
        if pending is None:
            if probability < self.check_from or (
                    self._last_s is not None and stream_s - self._last_s < self.refractory_s):
                return False
            pending = WakeCandidate(stream_s, stream_s, probability)
        elif probability > pending.peak:
            pending = replace(pending, peak=probability,
                              fired_s=pending.fired_s if pending.at_cutoff else stream_s)
        if not pending.at_cutoff and probability >= self.threshold:
            pending = replace(pending, fired_s=stream_s, at_cutoff=True)
        self.pending = pending
        # The phrase has been heard out: CHECK_AFTER_S after the score first rose, or
        # CHECK_TAIL_S after it reached the cutoff (the model fires as the phrase ends).
        ends_s = min(pending.start_s + CHECK_AFTER_S,
                     pending.fired_s + CHECK_TAIL_S if pending.at_cutoff else float("inf"))
        if stream_s < ends_s:
            return False
        self.pending = None
        self._last_s = pending.start_s
        self.fired = pending.peak
        self.candidate = replace(pending, end_s=stream_s)
        return True

    def reset(self) -> None:
        self._run = 0
        self.pending = None

    def configure(self, config: WakeConfig) -> None:
        self.threshold, self.refractory_s = config.threshold, config.refractory_s
        self.min_frames = max(1, config.min_frames)


class _StreamingWakeModel(Protocol):
    """What the detector uses of a microWakeWord model: pymicro-wakeword's ``MicroWakeWord`` or
    ``LiteRtMicroWakeWord``."""

    id: str
    wake_word: str
    probability_cutoff: float

    def process_streaming_prob(self, features: np.ndarray) -> float | None: ...

    def reset(self) -> None: ...


class _GatedDetector:
    """What both engines' detectors read from or set on their ``WakeDecision``."""

    _gate: WakeDecision

    @property
    def score(self) -> float:
        """The model's probability at its last detection."""
        return self._gate.fired

    def hearing_over_voice(self, over: bool) -> None:
        self._gate.over_voice = over

    @property
    def candidate(self) -> WakeCandidate | None:
        return self._gate.candidate

    def check_from(self, score: float) -> None:
        self._gate.check_from = score

    @property
    def hearing_candidate(self) -> bool:
        return self._gate.pending is not None


class MicroWakeWordDetector(_GatedDetector):
    """microWakeWord: small streaming models (okay_nabu, hey_jarvis, alexa, hey_mycroft).

    They run on pymicro-wakeword's bundled TensorFlow Lite library where it loads, else on LiteRT
    (``wake_litert``); ``runtime`` forces one. Both give the same probabilities.
    """

    def __init__(self, model: str, threshold: float = 0.5, refractory_s: float = 2.0,
                 runtime: MicroRuntime | None = None, min_frames: int = 1):
        from pymicro_wakeword import MicroWakeWordFeatures  # pure Python over pymicro-features

        self.runtime: MicroRuntime = runtime or choose_micro_runtime(probe_micro_runtimes())
        self._model = _load_micro_model(model, self.runtime)
        self._features = MicroWakeWordFeatures()
        self.model_cutoff = float(self._model.probability_cutoff)
        self._stride = int(getattr(self._model, "stride", 1)) or 1  # feature frames per model step
        self._frames = 0
        cutoff = threshold or self.model_cutoff
        self._gate = WakeDecision(cutoff, refractory_s, min_frames,
                                  over_voice_cutoff(self._model.id, cutoff))
        self.name = f"micro:{self._model.id}"
        self.phrase = SHIPPED_PHRASES.get(self._model.id, self._model.wake_word.lower())
        _LOGGER.info("microWakeWord %s runs on %s", self._model.id, self.runtime)

    def process(self, audio: bytes, stream_s: float) -> bool:
        detected = False
        for features in self._features.process_streaming(audio):
            probability = self._model.process_streaming_prob(features)
            self._frames += 1
            if self._frames % self._stride:  # no step ran (pymicro-wakeword says 0.0 then)
                continue
            if probability is not None and self._gate.decide(probability, stream_s):
                detected = True
        return detected

    def reset(self) -> None:
        self._model.reset()
        self._features.reset()
        self._gate.reset()
        self._frames = 0

    def configure(self, config: WakeConfig) -> None:
        self._gate.configure(config)
        self._gate.threshold = config.threshold or self.model_cutoff
        self._gate.threshold_over_voice = config.threshold_over_voice or over_voice_cutoff(
            self._model.id, self._gate.threshold)


def over_voice_cutoff(model_id: str, cutoff: float) -> float:
    """The measured cutoff over the box's voice for a shipped model, never above ``cutoff``."""
    return min(cutoff, OVER_VOICE_CUTOFFS.get(model_id, cutoff))


def _load_micro_model(model: str, runtime: MicroRuntime) -> _StreamingWakeModel:
    """A shipped model name or a model's ``.json``, on that runtime."""
    if runtime == "litert":
        return LiteRtMicroWakeWord(MicroModelSettings.load(model))
    from pymicro_wakeword import MicroWakeWord, Model

    try:
        if Path(model).suffix == ".json":
            return MicroWakeWord.from_config(model)
        return MicroWakeWord.from_builtin(Model(model))
    except (ValueError, OSError) as error:
        raise ModelError(f"microWakeWord model '{model}': {error}") from error


class OpenWakeWordDetector(_GatedDetector):
    """pyopen-wakeword: openWakeWord's shipped models over its mel + embedding front end."""

    def __init__(self, model: str, threshold: float = 0.5, refractory_s: float = 2.0,
                 min_frames: int = 1):
        from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures

        try:
            if Path(model).suffix == ".tflite":
                self._model = OpenWakeWord.from_model(model)
            else:
                self._model = OpenWakeWord.from_builtin(Model(model))
        except (ValueError, OSError) as error:
            raise ModelError(f"openWakeWord model '{model}': {error}") from error
        self._features = OpenWakeWordFeatures.from_builtin()
        self._gate = WakeDecision(threshold or OPENWAKEWORD_CUTOFF, refractory_s, min_frames)
        stem = Path(model).stem
        self.name = f"openwakeword:{stem}"
        self.phrase = SHIPPED_PHRASES.get(stem, stem.replace("_", " "))

    def process(self, audio: bytes, stream_s: float) -> bool:
        detected = False
        for probability in self.probabilities(audio):
            if self._gate.decide(probability, stream_s):
                detected = True
        return detected

    def probabilities(self, audio: bytes) -> list[float]:
        """The model's outputs for this audio (one per 80 ms once its window is full)."""
        return [float(probability) for embeddings in self._features.process_streaming(audio)
                for probability in self._model.process_streaming(embeddings)]

    def reset(self) -> None:
        self._model.reset()
        self._features.reset()
        self._gate.reset()

    def configure(self, config: WakeConfig) -> None:
        self._gate.configure(config)
        self._gate.threshold = config.threshold or OPENWAKEWORD_CUTOFF
        self._gate.threshold_over_voice = config.threshold_over_voice or self._gate.threshold


class SecondOpinion:
    """A first model's wake word counts once a second model of the same phrase agrees: the
    second's score reaches ``threshold`` from ``window_s`` before the first fired to
    ``window_s`` after (openWakeWord's score peaks up to ~0.6 s after microWakeWord's). Pure:
    fed plain scores and stream times."""

    def __init__(self, threshold: float, window_s: float = 1.0, either: bool = False,
                 refractory_s: float = 2.0):
        self.threshold = threshold
        self.window_s = window_s
        self.either = either  # instead: either model alone wakes (recall, not fewer false wakes)
        self.refractory_s = refractory_s
        self._scores: deque[tuple[float, float]] = deque()  # (stream time, second's score)
        self._pending_s: float | None = None  # the first fired here, not yet confirmed
        self._last_s: float | None = None  # either: the last wake word, for the refractory time
        self.rejected = 0

    def second(self, probability: float, stream_s: float) -> None:
        self._scores.append((stream_s, probability))
        while self._scores and self._scores[0][0] < stream_s - 2 * self.window_s:
            self._scores.popleft()

    def first(self, stream_s: float) -> None:
        self._pending_s = stream_s

    def decide(self, stream_s: float) -> bool:
        """After each chunk: True once, when a pending detection is confirmed."""
        if self.either:
            return self._either(stream_s)
        if self._pending_s is None:
            return False
        since = self._pending_s - self.window_s
        if any(p >= self.threshold for t, p in self._scores if t >= since):
            self._pending_s = None
            return True
        if stream_s - self._pending_s > self.window_s:
            self._pending_s = None
            self.rejected += 1
        return False

    def _either(self, stream_s: float) -> bool:
        heard = self._pending_s is not None or bool(self._scores) and (
            self._scores[-1][0] == stream_s and self._scores[-1][1] >= self.threshold)
        self._pending_s = None
        if not heard or (self._last_s is not None and stream_s - self._last_s < self.refractory_s):
            return False
        self._last_s = stream_s
        return True

    def reset(self) -> None:
        self._scores.clear()
        self._pending_s = None


class ConfirmedWakeDetector:
    """microWakeWord and openWakeWord's model of the same phrase both hear every chunk
    (``wake.second_model``). ``agree``: microWakeWord's wake word counts when the second's score
    reaches ``wake.second_threshold`` too, reported up to ``SecondOpinion.window_s`` after the
    first fired. ``either``: either model alone wakes the box."""

    def __init__(self, first: MicroWakeWordDetector, second: OpenWakeWordDetector,
                 threshold: float, either: bool = False):
        self.first = first
        self.second = second
        self.opinion = SecondOpinion(threshold, either=either)
        self.name = first.name
        self.phrase = first.phrase
        self.runtime = first.runtime

    def process(self, audio: bytes, stream_s: float) -> bool:
        if self.first.process(audio, stream_s):
            self.opinion.first(stream_s)
        for probability in self.second.probabilities(audio):
            self.opinion.second(probability, stream_s)
        return self.opinion.decide(stream_s)

    def hearing_over_voice(self, over: bool) -> None:
        self.first.hearing_over_voice(over)

    @property
    def candidate(self) -> WakeCandidate | None:
        return None  # two models agreeing are not checked again

    def check_from(self, score: float) -> None:
        pass

    @property
    def hearing_candidate(self) -> bool:
        return False

    def reset(self) -> None:
        self.first.reset()
        self.second.reset()
        self.opinion.reset()

    def configure(self, config: WakeConfig) -> None:
        self.first.configure(config)
        self.opinion.threshold = config.second_threshold
        self.opinion.refractory_s = config.refractory_s


def create_wake_detector(config: WakeConfig) -> WakeWordDetector | None:
    """The configured model, or None for ``none`` and ``phrase`` (no model needed)."""
    if config.engine == "micro":
        runtime = None if config.runtime == "auto" else config.runtime
        micro = MicroWakeWordDetector(config.model, config.threshold, config.refractory_s,
                                      runtime=runtime,  # type: ignore[arg-type]
                                      min_frames=config.min_frames)
        twin = micro.name.split(":", 1)[1]
        if config.second_model == "off" or twin not in OPENWAKEWORD_TWINS:
            return micro
        return ConfirmedWakeDetector(micro, OpenWakeWordDetector(twin), config.second_threshold,
                                     either=config.second_model == "either")
    if config.engine == "openwakeword":
        return OpenWakeWordDetector(config.model, config.threshold, config.refractory_s,
                                    min_frames=config.min_frames)
    return None


def strip_wake_phrase(text: str, phrase: str) -> str | None:
    """``text`` without a leading ``phrase`` (case, punctuation and ok/okay forgiven), or None."""
    words = re.findall(r"[a-z0-9']+", phrase.lower())
    if not words:
        return text.strip()
    parts = [r"(?:ok|okay|o\.k\.)" if w in ("ok", "okay") else re.escape(w) for w in words]
    pattern = r"^\W*" + r"[\s,.!?-]*".join(parts) + r"\b[\s,.!?-]*"
    match = re.match(pattern, text, flags=re.IGNORECASE)
    return None if match is None else text[match.end():].strip()


def after_wake_phrase(text: str, phrase: str) -> str | None:
    """What follows the first ``phrase`` anywhere in ``text`` (a wake word heard mid-sentence,
    or over the assistant's own voice), or None when the phrase is not in it."""
    pattern = _phrase_pattern(phrase)
    if pattern is None:
        return text.strip()
    match = re.search(pattern, text, flags=re.IGNORECASE)
    return None if match is None else text[match.end():].strip()


def _phrase_pattern(phrase: str) -> str | None:
    words = re.findall(r"[a-z0-9']+", phrase.lower())
    if not words:
        return None
    parts = [r"(?:ok|okay|o\.k\.)" if w in ("ok", "okay") else re.escape(w) for w in words]
    return r"\b" + r"[\s,.!?-]*".join(parts) + r"\b[\s,.!?-]*"


__all__ = ["CHECK_AFTER_S", "CHECK_TAIL_S", "ConfirmedWakeDetector", "MicroWakeWordDetector",
           "OVER_VOICE_CUTOFFS",
           "OpenWakeWordDetector", "SHIPPED_PHRASES",
           "SecondOpinion", "WakeCandidate", "WakeDecision",
           "WakeWordDetector",
           "after_wake_phrase", "create_wake_detector", "over_voice_cutoff", "strip_wake_phrase"]
