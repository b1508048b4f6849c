"""Raw PCM audio as it flows between stages: bytes plus the format that describes them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STT_RATE_HZ = 16000
SAMPLE_WIDTH = 2  # 16-bit


@dataclass(frozen=True)
class Pcm:
    """Little-endian signed PCM; mono 16-bit unless said otherwise."""

    audio: bytes
    rate_hz: int
    width: int = SAMPLE_WIDTH
    channels: int = 1

    @property
    def frames(self) -> int:
        return len(self.audio) // (self.width * self.channels)

    @property
    def seconds(self) -> float:
        return self.frames / self.rate_hz if self.rate_hz else 0.0

    def samples(self) -> np.ndarray:
        """Mono int16 samples (requires 16-bit mono)."""
        if self.width != 2 or self.channels != 1:
            raise ValueError("samples() needs 16-bit mono PCM; convert first")
        return np.frombuffer(self.audio, dtype="<i2")

    def float32(self) -> np.ndarray:
        return self.samples().astype(np.float32) / 32768.0

    @staticmethod
    def from_float32(audio: np.ndarray, rate_hz: int) -> Pcm:
        clipped = np.clip(audio, -1.0, 1.0)
        return Pcm((clipped * 32767.0).astype("<i2").tobytes(), rate_hz)

    @staticmethod
    def silence(seconds: float, rate_hz: int = STT_RATE_HZ) -> Pcm:
        return Pcm(bytes(2 * int(seconds * rate_hz)), rate_hz)

    def slice(self, start_s: float, end_s: float | None = None) -> Pcm:
        """The audio from ``start_s`` to ``end_s`` (or the end), in seconds from its start."""
        frame_bytes = self.width * self.channels
        start = max(0, int(start_s * self.rate_hz)) * frame_bytes
        end = len(self.audio) if end_s is None else int(end_s * self.rate_hz) * frame_bytes
        return Pcm(self.audio[start:end], self.rate_hz, self.width, self.channels)

    def __add__(self, other: Pcm) -> Pcm:
        if (self.rate_hz, self.width, self.channels) != (other.rate_hz, other.width, other.channels):
            raise ValueError("cannot join PCM of different formats")
        return Pcm(self.audio + other.audio, self.rate_hz, self.width, self.channels)
