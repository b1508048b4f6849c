"""Text to speech on a Wyoming tts server: ``synthesize`` → ``audio-start`` / ``audio-chunk``… /
``audio-stop``, one request per sentence (the pipeline speaks a reply sentence by sentence).

Audio blocks are yielded as they arrive; each must come within ``tts.timeout_s``
of the previous one. The voice's sample rate is learned from the server's
``audio-start``; until then it is ``tts.remote_rate_hz``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

from wyoming.audio import AudioChunk, AudioStart
from wyoming.error import Error
from wyoming.tts import Synthesize, SynthesizeVoice

from satellite.audio.pcm import Pcm
from satellite.config.schema import TtsConfig
from satellite.config.uris import tcp_address
from satellite.engines.tts import VoiceInfo
from satellite.errors import RemoteError
from satellite.remote.link import RemoteLink
from satellite.remote.wyoming_io import Deadline, WyomingSession, describe
from satellite.remote.wyoming_probe import summary, voice_names

_LOGGER = logging.getLogger(__name__)
PROBE_TIMEOUT_S = 5.0


class WyomingTts:
    def __init__(self, config: TtsConfig, reconnect_max_s: float = 30.0):
        self.config = config
        self.address = tcp_address(config.uri, "tts.uri")
        self.voice = VoiceInfo(config.remote_voice or "remote", "", config.remote_rate_hz, [],
                               Path(str(self.address)))
        self.link = RemoteLink("tts", str(self.address), self._probe, reconnect_max_s=reconnect_max_s)

    def _probe(self) -> str:
        info = describe(self.address, "tts", self.link.what, min(self.config.timeout_s, PROBE_TIMEOUT_S))
        program = summary(info, "tts", "tts", str(self.address))
        wanted = self.config.remote_voice
        if wanted and wanted not in voice_names(info):
            raise RemoteError(f"the {self.link.what} at {self.address} has no voice '{wanted}' "
                              "(tts.remote_voice)", "tts", "refused")
        return f"{program}, voice {wanted or 'default'}"

    def identity(self, speaker: int | None = None) -> str:
        speaker_id = speaker if speaker is not None else self.config.speaker
        return f"wyoming-tts:{self.address}:{self.config.remote_voice}:speaker={speaker_id}"

    def synthesize(self, text: str, speaker: int | None = None) -> Iterator[Pcm]:
        with self.link.call():
            yield from self._synthesize(text, speaker)

    def _synthesize(self, text: str, speaker: int | None) -> Iterator[Pcm]:
        speaker_id = speaker if speaker is not None else self.config.speaker
        voice = None
        if self.config.remote_voice:
            voice = SynthesizeVoice(name=self.config.remote_voice,
                                    speaker=str(speaker_id) if speaker_id else None)
        deadline = Deadline(self.config.timeout_s)
        with WyomingSession(self.address, "tts", self.link.what, deadline) as session:
            session.write(Synthesize(text=text, voice=voice).event())
            while True:
                event = session.read()
                deadline.restart()  # each piece of audio within timeout_s of the previous one
                if AudioChunk.is_type(event.type):
                    chunk = AudioChunk.from_event(event)
                    if chunk.width != 2 or chunk.channels != 1:
                        raise RemoteError(f"the {self.link.what} at {self.address} sent "
                                          f"{chunk.width * 8}-bit audio in {chunk.channels} "
                                          "channels; 16-bit mono is needed", "tts", "bad_answer")
                    yield Pcm(chunk.audio, chunk.rate)
                elif AudioStart.is_type(event.type):
                    self._learn_rate(AudioStart.from_event(event).rate)
                elif event.type == "audio-stop":
                    return
                elif Error.is_type(event.type):
                    raise RemoteError(f"the {self.link.what} at {self.address} answered with an "
                                      f"error: {Error.from_event(event).text}", "tts", "refused")
                else:
                    _LOGGER.debug("tts: %s from the server ignored", event.type)

    def _learn_rate(self, rate_hz: int) -> None:
        if rate_hz != self.voice.sample_rate_hz:
            _LOGGER.info("remote voice speaks at %d Hz", rate_hz)
            self.voice = dataclasses.replace(self.voice, sample_rate_hz=rate_hz)
