"""Format conversion to the pipeline's PCM (16 kHz mono s16le for STT), through wyoming's converter."""

from __future__ import annotations

from wyoming.audio import AudioChunk, AudioChunkConverter

from satellite.audio.pcm import SAMPLE_WIDTH, STT_RATE_HZ, Pcm


class PcmConverter:
    """Stateful converter for a stream of chunks (keeps the resampler's state between chunks)."""

    def __init__(self, rate_hz: int = STT_RATE_HZ, width: int = SAMPLE_WIDTH, channels: int = 1):
        self.rate_hz, self.width, self.channels = rate_hz, width, channels
        self._converter = AudioChunkConverter(rate=rate_hz, width=width, channels=channels)

    def convert(self, pcm: Pcm) -> Pcm:
        if (pcm.rate_hz, pcm.width, pcm.channels) == (self.rate_hz, self.width, self.channels):
            return pcm
        chunk = AudioChunk(rate=pcm.rate_hz, width=pcm.width, channels=pcm.channels, audio=pcm.audio)
        out = self._converter.convert(chunk)
        return Pcm(out.audio, out.rate, out.width, out.channels)


def to_stt_format(pcm: Pcm) -> Pcm:
    """One-shot conversion of a whole clip to 16 kHz mono 16-bit."""
    return PcmConverter().convert(pcm)


def resample(pcm: Pcm, rate_hz: int) -> Pcm:
    return PcmConverter(rate_hz=rate_hz, width=pcm.width, channels=pcm.channels).convert(pcm)
