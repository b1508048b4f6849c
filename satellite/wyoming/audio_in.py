"""Audio a client streams for transcription: checked, converted to 16 kHz mono, and bounded.

Pure (no sockets): the handler feeds it ``AudioChunk`` payloads as they come.
"""

from __future__ import annotations

from satellite.audio.convert import PcmConverter
from satellite.audio.pcm import Pcm
from satellite.errors import InputError

SUPPORTED_WIDTHS = (1, 2, 4)
SUPPORTED_CHANNELS = (1, 2)
MIN_RATE_HZ, MAX_RATE_HZ = 1000, 192_000


def check_format(rate_hz: object, width: object, channels: object) -> tuple[int, int, int]:
    """The declared format as ints, or InputError naming what is wrong."""
    for name, value in (("rate", rate_hz), ("width", width), ("channels", channels)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"audio {name} must be an integer, not {value!r}")
    assert isinstance(rate_hz, int) and isinstance(width, int) and isinstance(channels, int)
    if not MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:
        raise InputError(f"audio rate {rate_hz} Hz is outside {MIN_RATE_HZ}..{MAX_RATE_HZ}")
    if width not in SUPPORTED_WIDTHS:
        raise InputError(f"audio width {width} is not one of {SUPPORTED_WIDTHS} bytes")
    if channels not in SUPPORTED_CHANNELS:
        raise InputError(f"audio with {channels} channels is not supported (1 or 2)")
    return rate_hz, width, channels


class AudioCollector:
    """Collects one utterance; refuses more than ``max_audio_s`` seconds of audio."""

    def __init__(self, max_audio_s: float):
        self.max_audio_s = max_audio_s
        self._converter = PcmConverter()
        self._parts: list[bytes] = []
        self._bytes = 0
        self._rest = b""  # an incomplete frame held back until the next chunk

    @property
    def seconds(self) -> float:
        return self._bytes / (2 * self._converter.rate_hz)

    def add(self, audio: bytes, rate_hz: object, width: object, channels: object) -> None:
        rate, size, count = check_format(rate_hz, width, channels)
        frame = size * count
        audio = self._rest + audio
        whole = len(audio) - len(audio) % frame
        audio, self._rest = audio[:whole], audio[whole:]
        incoming_s = len(audio) / (frame * rate)
        if self.seconds + incoming_s > self.max_audio_s:
            self.clear()
            raise InputError(f"audio longer than the limit of {self.max_audio_s:g} s")
        if audio:
            pcm = self._converter.convert(Pcm(audio, rate, size, count))
            self._parts.append(pcm.audio)
            self._bytes += len(pcm.audio)

    def pcm(self) -> Pcm:
        return Pcm(b"".join(self._parts), self._converter.rate_hz)

    def clear(self) -> None:
        self._parts.clear()
        self._bytes = 0
        self._rest = b""
