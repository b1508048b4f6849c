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


class SpeechSetError(SatelliteError):
    """Benchmark or test speech cannot be made or found (espeak-ng failing, no manifest)."""


__all__ = [
    "AudioError",
    "BusyError",
    "ConfigError",
    "InputError",
    "ModelError",
    "SatelliteError",
    "SpeechSetError",
]
