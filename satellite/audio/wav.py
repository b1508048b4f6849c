"""WAV read and write, in memory where possible.

PCM WAVs go through the stdlib ``wave`` module; anything else (float WAV,
extensible headers wave refuses, other containers) is decoded with PyAV, which
faster-whisper already depends on.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from satellite.audio.convert import to_stt_format
from satellite.audio.pcm import STT_RATE_HZ, Pcm
from satellite.errors import AudioError


def read_wav(path: str | Path, *, convert: bool = True) -> Pcm:
    """Read a WAV file; by default converted to 16 kHz mono 16-bit. Raises ``AudioError``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AudioError(f"{path}: is a directory, expected a WAV file") from None
    except OSError as error:
        raise AudioError(f"{path}: cannot read ({error.strerror})") from None
    pcm = parse_wav(data, name=str(path))
    if pcm.frames == 0:
        raise AudioError(f"{path}: contains no audio (0 samples)")
    return to_stt_format(pcm) if convert else pcm


def parse_wav(data: bytes, *, name: str = "input") -> Pcm:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError(f"{name}: not a WAV file (no RIFF/WAVE header)")
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            width = wav.getsampwidth()
            if width not in (1, 2, 3, 4):
                raise AudioError(f"{name}: unsupported sample width of {width} bytes")
            return Pcm(wav.readframes(wav.getnframes()), wav.getframerate(), width,
                       wav.getnchannels())
    except (wave.Error, EOFError) as error:
        return _decode_with_av(data, name=name, reason=str(error))


def _decode_with_av(data: bytes, *, name: str, reason: str) -> Pcm:
    try:
        from faster_whisper.audio import decode_audio

        audio = decode_audio(io.BytesIO(data), sampling_rate=STT_RATE_HZ)
    except Exception as error:  # PyAV raises many kinds; all mean "not decodable"
        raise AudioError(f"{name}: not a readable WAV ({reason}; {type(error).__name__})") from None
    return Pcm.from_float32(np.asarray(audio, dtype=np.float32), STT_RATE_HZ)


def wav_bytes(pcm: Pcm) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(pcm.channels)
        wav.setsampwidth(pcm.width)
        wav.setframerate(pcm.rate_hz)
        wav.writeframes(pcm.audio)
    return buffer.getvalue()


def write_wav(path: str | Path, pcm: Pcm) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(wav_bytes(pcm))
    tmp.replace(path)
