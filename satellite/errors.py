"""The project's error hierarchy: expected failures that a door turns into one clear message."""

from __future__ import annotations


class SatelliteError(Exception):
    """Base of every expected failure; its message is shown to the user as is."""


class ConfigError(SatelliteError):
    """A configuration value is unknown, of the wrong type, or out of range."""


class ModelError(SatelliteError):
    """A model file is missing, unreadable or corrupt."""


class AudioError(SatelliteError):
    """Audio input cannot be read or converted (not a WAV, empty, odd format)."""


class BusyError(SatelliteError):
    """The engine scheduler's queue is full; the request is refused, not queued."""


class InputError(SatelliteError):
    """A client's request is malformed or over a configured limit."""


class RemoteError(SatelliteError):
    """A remote engine (a Wyoming server, an OpenAI-compatible endpoint) is down, too slow, or
    answered something that is not an answer."""

    def __init__(self, text: str, stage: str, reason: str = "unreachable"):
        super().__init__(text)
        self.stage = stage  # stt | llm | tts | intent
        self.reason = reason  # unreachable | timeout | bad_answer | refused | down


class EngineBrokenError(SatelliteError):
    """A local engine crashed in native code when it was probed on this machine, and again with
    safe settings: the process runs without it (``satellite.engines.probe``)."""

    def __init__(self, text: str, stage: str):
        super().__init__(text)
        self.stage = stage  # stt | llm | tts


class SpeechSetError(SatelliteError):
    """Benchmark or test speech cannot be made or found (espeak-ng failing, no manifest)."""


__all__ = [
    "AudioError",
    "BusyError",
    "ConfigError",
    "EngineBrokenError",
    "InputError",
    "ModelError",
    "RemoteError",
    "SatelliteError",
    "SpeechSetError",
]
