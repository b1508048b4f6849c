"""WAV input: odd formats are converted, bad files get one clear AudioError."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from satellite.audio import Pcm, PcmConverter, read_wav, wav_bytes, write_wav
from satellite.errors import AudioError


def tone(rate_hz: int, seconds: float, channels: int = 1, width: int = 2) -> bytes:
    frames = int(rate_hz * seconds)
    t = np.arange(frames) / rate_hz
    mono = 0.5 * np.sin(2 * math.pi * 440 * t)
    data = np.repeat(mono[:, None], channels, axis=1).reshape(-1)
    if width == 2:
        return (data * 32767).astype("<i2").tobytes()
    return ((data * 127) + 128).astype(np.uint8).tobytes()


def write_raw_wav(path: Path, audio: bytes, rate_hz: int, channels: int, width: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate_hz)
        wav.writeframes(audio)


@pytest.mark.parametrize(("rate", "channels", "width"),
                         [(16000, 1, 2), (44100, 2, 2), (8000, 1, 1), (48000, 1, 2)])
def test_any_pcm_wav_becomes_16k_mono_16bit(tmp_path: Path, rate: int, channels: int,
                                           width: int) -> None:
    path = tmp_path / "in.wav"
    write_raw_wav(path, tone(rate, 1.0, channels, width), rate, channels, width)
    pcm = read_wav(path)
    assert (pcm.rate_hz, pcm.channels, pcm.width) == (16000, 1, 2)
    assert pcm.seconds == pytest.approx(1.0, abs=0.01)
    assert np.abs(pcm.samples()).max() > 8000  # the tone survived


def test_float_wav_is_decoded(tmp_path: Path) -> None:
    samples = (0.3 * np.sin(np.arange(8000) / 5)).astype("<f4")
    header = b"RIFF" + struct.pack("<I", 36 + samples.nbytes) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 3, 1, 8000, 32000, 4, 32)
    data = b"data" + struct.pack("<I", samples.nbytes) + samples.tobytes()
    path = tmp_path / "float.wav"
    path.write_bytes(header + fmt + data)
    pcm = read_wav(path)
    assert pcm.rate_hz == 16000 and pcm.seconds == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a WAV"),
        (b"hello, I am a text file pretending" * 10, "not a WAV"),
        (b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk", "not a readable WAV"),
    ],
)
def test_bad_files_are_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=message):
        read_wav(path)


def test_empty_audio_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    write_raw_wav(path, b"", 16000, 1, 2)
    with pytest.raises(AudioError, match="no audio"):
        read_wav(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no such file"):
        read_wav(tmp_path / "nope.wav")
    with pytest.raises(AudioError, match="directory"):
        read_wav(tmp_path)


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    pcm = Pcm(tone(16000, 0.5), 16000)
    write_wav(tmp_path / "x.wav", pcm)
    assert read_wav(tmp_path / "x.wav") == pcm
    with wave.open(io.BytesIO(wav_bytes(pcm))) as wav:
        assert wav.getframerate() == 16000


def test_streaming_converter_keeps_length_across_chunks() -> None:
    converter = PcmConverter(16000)
    audio = tone(22050, 1.0)
    chunk = 2205 * 2
    out = b"".join(converter.convert(Pcm(audio[i:i + chunk], 22050)).audio
                   for i in range(0, len(audio), chunk))
    assert abs(len(out) // 2 - 16000) <= 20
