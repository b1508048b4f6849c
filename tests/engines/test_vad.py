"""The real VADs on real speech (dev set), noise and silence."""

from __future__ import annotations

import numpy as np
import pytest

from satellite.audio import read_wav, to_stt_format
from satellite.config.schema import VadConfig
from satellite.engines.vad import SileroVad, VoiceActivityDetector, WebRtcVad, create_vad
from tests.conftest import DevClip


def voiced_fraction(vad: VoiceActivityDetector, audio: bytes) -> float:
    size = vad.frame_bytes
    decisions = [vad.is_speech(audio[i:i + size]) for i in range(0, len(audio) - size + 1, size)]
    return sum(decisions) / len(decisions)


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_webrtc_frame_sizes(frame_ms: int) -> None:
    vad = WebRtcVad(2, frame_ms)
    assert vad.frame_bytes == 32 * frame_ms
    assert vad.frame_ms == frame_ms


@pytest.mark.parametrize("engine", ["webrtc", "silero"])
def test_speech_is_voiced_and_silence_is_not(engine: str, dev_set: list[DevClip]) -> None:
    vad = create_vad(VadConfig(engine=engine))
    speech = to_stt_format(read_wav(dev_set[0].path)).audio
    assert voiced_fraction(vad, speech) > 0.5
    vad.reset()
    assert voiced_fraction(vad, bytes(32000)) == 0.0


def test_silero_ignores_noise_and_threshold_is_live() -> None:
    vad = SileroVad(0.5)
    noise = np.random.default_rng(1).normal(0, 1000, 16000 * 2).astype("<i2").tobytes()
    assert voiced_fraction(vad, noise) < 0.1
    vad.configure(VadConfig(engine="silero", silero_threshold=0.0))
    assert voiced_fraction(vad, noise) == 1.0


def test_webrtc_aggressiveness_is_live() -> None:
    vad = WebRtcVad(0, 30)
    vad.configure(VadConfig(aggressiveness=3))
    assert vad.aggressiveness == 3


def test_webrtc_rejects_other_frame_sizes() -> None:
    with pytest.raises(ValueError):
        WebRtcVad(2, 25)
