"""Speech to text on a Wyoming asr server: ``transcribe`` → audio → ``transcript``.

The utterance is complete when the pipeline transcribes it, so it goes in one
write; the answer is read as a final ``transcript``, or assembled from
``transcript-chunk`` events when the server streams and ends with
``transcript-stop``. The whole request (connect, send, answer) takes at most
``stt.timeout_s``.
"""

from __future__ import annotations

import logging

from wyoming.asr import Transcribe, TranscriptChunk
from wyoming.asr import Transcript as WyomingTranscript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error

from satellite.audio.pcm import STT_RATE_HZ, Pcm
from satellite.config.schema import SttConfig
from satellite.config.uris import tcp_address
from satellite.engines.stt import Transcript
from satellite.errors import RemoteError
from satellite.remote.link import RemoteLink
from satellite.remote.wyoming_io import Deadline, WyomingSession, describe
from satellite.remote.wyoming_probe import summary

_LOGGER = logging.getLogger(__name__)
CHUNK_S = 0.25
PROBE_TIMEOUT_S = 5.0


class WyomingStt:
    def __init__(self, config: SttConfig, reconnect_max_s: float = 30.0):
        self.config = config
        self.address = tcp_address(config.uri, "stt.uri")
        self.name = f"wyoming asr {self.address}"
        self.languages = [config.language]
        self.link = RemoteLink("stt", str(self.address), self._probe, reconnect_max_s=reconnect_max_s)

    def _probe(self) -> str:
        info = describe(self.address, "stt", self.link.what, min(self.config.timeout_s, PROBE_TIMEOUT_S))
        return summary(info, "asr", "stt", str(self.address))

    def transcribe(self, pcm: Pcm, hint: str | None = None, alternatives: int = 0) -> Transcript:
        """(Wyoming's ``transcribe`` has no prompt and one transcript: ``hint`` is not sent, and
        there are no ``alternatives``.)"""
        if pcm.rate_hz != STT_RATE_HZ or pcm.channels != 1 or pcm.width != 2:
            raise ValueError("WyomingStt needs 16 kHz mono 16-bit PCM")
        with self.link.call():
            return self._transcribe(pcm)

    def _transcribe(self, pcm: Pcm) -> Transcript:
        rate, width, channels = STT_RATE_HZ, 2, 1
        step = int(rate * CHUNK_S) * width
        events = [Transcribe(language=self.config.language or None).event(),
                  AudioStart(rate=rate, width=width, channels=channels).event()]
        events += [AudioChunk(rate=rate, width=width, channels=channels,
                              audio=pcm.audio[i:i + step]).event()
                   for i in range(0, len(pcm.audio), step)]
        events.append(AudioStop().event())
        pieces: list[str] = []
        with WyomingSession(self.address, "stt", self.link.what,
                            Deadline(self.config.timeout_s)) as session:
            session.write(*events)
            while True:
                event = session.read()
                if WyomingTranscript.is_type(event.type):
                    final = WyomingTranscript.from_event(event)
                    return Transcript(final.text.strip(), final.language or self.config.language,
                                      pcm.seconds)
                if TranscriptChunk.is_type(event.type):
                    pieces.append(TranscriptChunk.from_event(event).text)
                elif event.type == "transcript-stop" and pieces:
                    return Transcript("".join(pieces).strip(), self.config.language, pcm.seconds)
                elif Error.is_type(event.type):
                    raise RemoteError(f"the {self.link.what} at {self.address} answered with an "
                                      f"error: {Error.from_event(event).text}", "stt", "refused")
                else:
                    _LOGGER.debug("stt: %s from the server ignored", event.type)
