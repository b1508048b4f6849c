"""A remote engine with the local one behind it: while the remote is down or slow, the local answers.

``stt.fallback_local`` / ``llm.fallback_local`` / ``tts.fallback_local`` load both.
A failure is still counted and shown on the remote's link; the request is then
made locally, so the room hears an answer instead of an apology. An LLM reply
that already streamed pieces from the remote is not restarted locally (the room
has heard its start): that failure goes to the door.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from satellite.audio.pcm import Pcm
from satellite.engines.llm import ChatMessage, LanguageModel
from satellite.engines.stt import SpeechToText, Transcript
from satellite.engines.tts import TextToSpeech, VoiceInfo
from satellite.errors import RemoteError
from satellite.remote.link import RemoteLink

_LOGGER = logging.getLogger(__name__)


def _using_local(error: RemoteError) -> None:
    if error.reason != "down":  # once per failure, not once per request refused while down
        _LOGGER.warning("%s; the local engine answers", error)


class FallbackStt:
    def __init__(self, remote: SpeechToText, local: SpeechToText, link: RemoteLink):
        self.remote, self.local, self.link = remote, local, link
        self.name = remote.name
        self.languages = remote.languages

    def transcribe(self, pcm: Pcm, hint: str | None = None, alternatives: int = 0) -> Transcript:
        try:
            return self.remote.transcribe(pcm, hint, alternatives)
        except RemoteError as error:
            _using_local(error)
            return self.local.transcribe(pcm, hint, alternatives)


class FallbackTts:
    def __init__(self, remote: TextToSpeech, local: TextToSpeech, link: RemoteLink):
        self.remote, self.local, self.link = remote, local, link

    @property
    def voice(self) -> VoiceInfo:
        return self.remote.voice

    def identity(self, speaker: int | None = None) -> str:
        return self.remote.identity(speaker)

    def synthesize(self, text: str, speaker: int | None = None) -> Iterator[Pcm]:
        try:
            blocks = list(self.remote.synthesize(text, speaker))  # one sentence: all or nothing
        except RemoteError as error:
            _using_local(error)
            yield from self.local.synthesize(text, speaker)
            return
        yield from blocks


class FallbackLlm:
    def __init__(self, remote: LanguageModel, local: LanguageModel, link: RemoteLink):
        self.remote, self.local, self.link = remote, local, link
        self.name = remote.name
        self.identity = remote.identity
        self.context_tokens = min(remote.context_tokens, local.context_tokens)

    def count_tokens(self, text: str) -> int:
        return max(self.remote.count_tokens(text), self.local.count_tokens(text))

    def stream(self, messages: list[ChatMessage], cancel: threading.Event | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        started = False
        try:
            for piece in self.remote.stream(messages, cancel, max_tokens):
                started = True
                yield piece
        except RemoteError as error:
            if started:
                raise
            _using_local(error)
            yield from self.local.stream(messages, cancel, max_tokens)
