"""What a failed turn means to each door: one classification, used by the room and by Wyoming."""

from __future__ import annotations

from dataclasses import dataclass

from satellite.errors import (
    AudioError,
    BusyError,
    EngineBrokenError,
    InputError,
    RemoteError,
    SatelliteError,
)


@dataclass(frozen=True)
class Failure:
    kind: str  # metric label (satellite_errors{kind})
    code: str  # Wyoming error code
    spoken: str  # what the person in the room hears
    expected: bool  # an expected failure is one warning; anything else is logged with its traceback


BUSY = "Sorry, I'm busy right now. Please ask me again in a moment."
TOO_LONG = "Sorry, that was too much for me. Please ask a shorter question."
BROKEN = "Sorry, something went wrong. Please try again."
REMOTE_DOWN = {  # a remote engine is down or too slow: the room hears which one
    "stt": "Sorry, my speech recognition server isn't answering right now.",
    "llm": "Sorry, my language model server isn't answering right now.",
    "tts": "Sorry, my speech server isn't answering right now.",
}
ENGINE_BROKEN = {  # a local engine crashed on this machine's CPU when probed (satellite check says why)
    "stt": "Sorry, my speech recognition doesn't work on this machine.",
    "llm": "Sorry, my language model doesn't work on this machine.",
    "tts": "Sorry, my voice doesn't work on this machine.",
}
SPOKEN_PHRASES = (BUSY, TOO_LONG, BROKEN)  # rendered at start, so saying them needs no engine


def classify(error: BaseException) -> Failure:
    if isinstance(error, BusyError):
        return Failure("busy", "busy", BUSY, True)
    if isinstance(error, InputError):
        return Failure("bad_request", "bad-request", TOO_LONG, True)
    if isinstance(error, EngineBrokenError):
        return Failure("engine_broken", "engine-broken", ENGINE_BROKEN.get(error.stage, BROKEN), True)
    if isinstance(error, RemoteError):
        return Failure("remote", "remote-unavailable", REMOTE_DOWN.get(error.stage, BROKEN), True)
    if isinstance(error, AudioError):
        return Failure("audio_output", "audio", BROKEN, True)
    if isinstance(error, SatelliteError):
        return Failure(type(error).__name__, "error", BROKEN, True)
    return Failure("internal", "internal", BROKEN, False)
