"""Audio: PCM frames, format conversion and WAV I/O (sources and sinks live beside them)."""

from satellite.audio.convert import PcmConverter, resample, to_stt_format
from satellite.audio.pcm import SAMPLE_WIDTH, STT_RATE_HZ, Pcm
from satellite.audio.wav import parse_wav, read_wav, wav_bytes, write_wav

__all__ = [
    "SAMPLE_WIDTH",
    "STT_RATE_HZ",
    "Pcm",
    "PcmConverter",
    "parse_wav",
    "read_wav",
    "resample",
    "to_stt_format",
    "wav_bytes",
    "write_wav",
]
