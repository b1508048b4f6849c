"""What flows through a turn: the request a door makes, and what comes back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from satellite.audio.pcm import Pcm
from satellite.engines.stt import Transcript
from satellite.pipeline.scheduler import Priority


@dataclass
class TurnTimings:
    """Milliseconds from the turn's start (the end of the utterance, or the question)."""

    stt_ms: float | None = None
    first_token_ms: float | None = None
    first_sentence_ms: float | None = None
    first_audio_ms: float | None = None
    total_ms: float | None = None
    source: str = ""  # local | intent | cache | llm | error
    end_of_speech_ms: float | None = None  # VAD wait, filled by the mic door
    first_reply_audio_ms: float | None = None  # last voiced frame → playback, by the mic door

    def as_dict(self) -> dict[str, float | str | None]:
        return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class ReplySentence:
    text: str
    source: str


@dataclass
class TurnResult:
    transcript: str
    reply: str
    timings: TurnTimings
    audio_s: float = 0.0
    stopped_because: str | None = None
    sentences: list[str] = field(default_factory=list)


@dataclass
class TurnRequest:
    """One question from one door, and how the door wants it answered."""

    text: str
    door: str = "cli"  # mic | wyoming | cli: recorded with the turn
    conversation: str = ""  # memory key; empty = no memory
    speak: bool = True  # synthesize the reply (with the default voice)
    intents: bool = True  # False: the door has tried the intent fast path itself
    priority: Priority = Priority.CLIENT
    t0: float | None = None  # the turn's start on the service's clock; None = now
    timings: TurnTimings = field(default_factory=TurnTimings)
    on_token: Callable[[str], None] | None = None  # the reply's text as it is generated
    details: dict[str, Any] = field(default_factory=dict)  # recorded with the turn's timings
    doubt: str = ""  # why speech to text doubts the words (``pipeline.doubt``): not answered


TurnEvent = Transcript | ReplySentence | Pcm | TurnResult
