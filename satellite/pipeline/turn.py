"""A voice turn, streamed: audio → text → answer → audio, sentence by sentence.

Where the reply comes from, in order: a local answer (clock questions), the
intent fast path, the response cache, then the LLM token stream cut into
sentences by ``SentenceSplitter`` and checked by ``ReplyGuard``. Each sentence
is synthesized as soon as it is complete, while the LLM goes on generating in
its own worker thread, so the first audio leaves long before the reply ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

from satellite.audio.pcm import Pcm
from satellite.config.schema import Config
from satellite.engines import Engines
from satellite.engines.llm import ChatMessage
from satellite.engines.stt import Transcript
from satellite.engines.tts import TextToSpeech
from satellite.errors import InputError
from satellite.pipeline.cache import ResponseCache
from satellite.pipeline.guard import ReplyGuard
from satellite.pipeline.local_answers import local_answer
from satellite.pipeline.memory import ConversationMemory
from satellite.pipeline.scheduler import EngineScheduler
from satellite.pipeline.sentences import SentenceSplitter, split_sentences
from satellite.pipeline.speech_chunks import speech_chunks
from satellite.runtime.heap import trim_heap

_LOGGER = logging.getLogger(__name__)

IntentAnswer = Callable[[str], str | None]


@dataclass
class TurnTimings:
    """Milliseconds from the turn's start (the end of the utterance, or the question)."""

    stt_ms: float | None = None
    first_token_ms: float | None = None
    first_sentence_ms: float | None = None
    first_audio_ms: float | None = None
    total_ms: float | None = None
    source: str = ""  # local | intent | cache | llm
    end_of_speech_ms: float | None = None  # VAD wait, filled by the daemon

    def as_dict(self) -> dict[str, float | str | None]:
        return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class ReplySentence:
    text: str
    source: str


@dataclass
class TurnResult:
    transcript: str
    reply: str
    timings: TurnTimings
    audio_s: float = 0.0
    stopped_because: str | None = None
    sentences: list[str] = field(default_factory=list)


TurnEvent = Transcript | ReplySentence | Pcm | TurnResult


class VoicePipeline:
    def __init__(self, config: Config, engines: Engines, scheduler: EngineScheduler,
                 cache: ResponseCache, memory: ConversationMemory,
                 intent_answer: IntentAnswer | None = None,
                 clock: Callable[[], float] = time.perf_counter,
                 now: Callable[[], dt.datetime] = dt.datetime.now,
                 state_db: sqlite3.Connection | None = None):
        self.config = config
        self.engines = engines
        self.scheduler = scheduler
        self.cache = cache
        self.memory = memory
        self.intent_answer = intent_answer
        self._clock = clock
        self._now = now
        self._state_db = state_db

    def close(self) -> None:
        """Checkpoint and close the state database (cache and memory); stop the engine pool."""
        self.scheduler.shutdown()
        if self._state_db is None:
            return
        try:
            self._state_db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._state_db.close()
        except sqlite3.Error as error:
            _LOGGER.warning("closing the state database: %s", error)
        self._state_db = None

    # -- stages ------------------------------------------------------------------------------

    async def transcribe(self, pcm: Pcm) -> Transcript:
        return await self.scheduler.run("stt", self.engines.stt.transcribe, pcm)

    async def reply(self, text: str, conversation: str = "", *,
                    timings: TurnTimings | None = None, t0: float | None = None,
                    on_token: Callable[[str], None] | None = None,
                    use_cache: bool = True, intents: bool = True) -> AsyncIterator[ReplySentence]:
        """The reply to ``text`` as speakable sentences; remembers the exchange.

        ``intents=False``: the caller has already tried the intent fast path.
        """
        timings = timings if timings is not None else TurnTimings()
        t0 = self._clock() if t0 is None else t0
        history = self.memory.history(conversation)
        fixed = self._fast_answer(text, intents=intents)
        if fixed is None and use_cache and not history:
            hit = self.cache.get(text)
            fixed = (hit.reply, "cache") if hit is not None else None
        sentences = self._sentences(text, conversation, history, fixed, timings, t0, on_token)
        async with contextlib.aclosing(sentences):
            async for sentence in sentences:
                yield sentence

    def _fast_answer(self, text: str, *, intents: bool = True) -> tuple[str, str] | None:
        """(reply, source) when no model is needed: no words, a clock question, a home command."""
        if not text.strip():
            return "Sorry, I didn't catch that.", "local"
        answer = local_answer(text, self._now)
        if answer:
            return answer, "local"
        if intents and self.intent_answer is not None:
            answer = self.intent_answer(text)
            if answer:
                return answer, "intent"
        return None

    async def _sentences(self, text: str, conversation: str, history: list[ChatMessage],
                         fixed: tuple[str, str] | None, timings: TurnTimings, t0: float,
                         on_token: Callable[[str], None] | None) -> AsyncIterator[ReplySentence]:
        """Speakable sentences of a reply known already (``fixed``) or from the LLM."""
        text = text.strip()
        if len(text) > 4 * self.config.wyoming.max_text_chars:
            raise InputError("question too long")
        spoken: list[str] = []
        if fixed is not None:
            reply, source = fixed
            timings.source = source
            for sentence in split_sentences(reply) or [reply]:
                if timings.first_sentence_ms is None:
                    timings.first_token_ms = timings.first_sentence_ms = self._ms(t0)
                if on_token:
                    on_token(sentence + " ")
                spoken.append(sentence)
                yield ReplySentence(sentence, source)
        else:
            timings.source = "llm"
            llm_sentences = self._llm_sentences(text, history, timings, t0, on_token)
            async with contextlib.aclosing(llm_sentences):
                async for sentence in llm_sentences:
                    spoken.append(sentence)
                    yield ReplySentence(sentence, "llm")
        self.memory.add_exchange(conversation, text, " ".join(spoken))

    async def _llm_sentences(self, text: str, history: list[ChatMessage], timings: TurnTimings,
                             t0: float, on_token: Callable[[str], None] | None
                             ) -> AsyncIterator[str]:
        messages = [ChatMessage("system", self.config.llm.system_prompt), *history,
                    ChatMessage("user", text)]
        splitter = SentenceSplitter(first_clause_words=self.config.tts.first_clause_words)
        guard = ReplyGuard(self.config.llm.max_sentences, echo_of=text)
        stream = self.scheduler.stream("llm", lambda cancel: self.engines.llm.stream(messages, cancel))
        try:
            async for piece in stream:
                if timings.first_token_ms is None:
                    timings.first_token_ms = self._ms(t0)
                if on_token:
                    on_token(piece)
                for sentence in splitter.feed(piece):
                    if splitter.clause_emitted and guard.max_sentences == self.config.llm.max_sentences:
                        guard.max_sentences += 1  # a first clause does not use up a sentence
                    spoken = guard.accept(sentence)
                    if spoken is not None:
                        if timings.first_sentence_ms is None:
                            timings.first_sentence_ms = self._ms(t0)
                        yield spoken
                    if guard.stopped:
                        break
                if guard.stopped:
                    break
        finally:
            await stream.aclose()
        if not guard.stopped:
            for sentence in splitter.flush():
                spoken = guard.accept(sentence)
                if spoken is not None:
                    if timings.first_sentence_ms is None:
                        timings.first_sentence_ms = self._ms(t0)
                    yield spoken
        if guard.stopped_because and guard.stopped_because != "max_sentences":
            _LOGGER.info("reply cut short: %s", guard.stopped_because)
        if not guard.accepted:
            yield "Sorry, I can't help with that yet."

    async def speak(self, text: str, voice: str | None = None, speaker: int | None = None,
                    *, lead: bool = False) -> AsyncIterator[Pcm]:
        """Synthesize ``text``: PCM blocks at the voice's rate, in bounded chunks.

        ``lead``: this is the start of a reply, so its first words are spoken on
        their own for a sooner first audio (see ``speech_chunks``).
        """
        tts = self.voice(voice)
        chunks = speech_chunks(text, lead_words=self.config.tts.lead_words if lead else 0,
                               max_words=self.config.tts.max_chunk_words)

        def synthesize(cancel: threading.Event) -> Iterator[Pcm]:
            for chunk in chunks:
                if cancel.is_set():
                    return
                yield from tts.synthesize(chunk, speaker)

        stream = self.scheduler.stream("tts", synthesize)
        try:
            async for pcm in stream:
                yield pcm
        finally:
            await stream.aclose()

    def voice(self, name: str | None) -> TextToSpeech:
        voices = self.engines.voices()
        if not name:
            return self.engines.tts
        if name not in voices:
            raise InputError(f"unknown voice '{name}'; available: {', '.join(voices)}")
        return voices[name]

    # -- the whole turn ------------------------------------------------------------------------

    async def answer(self, text: str, conversation: str = "", *, t0: float | None = None,
                     timings: TurnTimings | None = None,
                     on_token: Callable[[str], None] | None = None,
                     speak: bool = True) -> AsyncIterator[ReplySentence | Pcm | TurnResult]:
        """Reply to a question, spoken: sentences and their audio as they come, then the result."""
        t0 = self._clock() if t0 is None else t0
        timings = timings if timings is not None else TurnTimings()
        sentences: list[str] = []
        audio: list[Pcm] = []
        history = self.memory.history(conversation)
        fixed = self._fast_answer(text)
        cached = self.cache.get(text) if fixed is None and not history else None
        voice_name = self.engines.tts.voice.name if speak else None
        if cached is not None:
            timings.source = "cache"
            timings.first_token_ms = timings.first_sentence_ms = self._ms(t0)
            self.memory.add_exchange(conversation, text, cached.reply)
            sentences = [cached.reply]
            yield ReplySentence(cached.reply, "cache")
            if speak and cached.audio is not None and cached.voice == voice_name:
                timings.first_audio_ms = self._ms(t0)
                audio.append(cached.audio)
                yield cached.audio
            elif speak:
                spoken = self._spoken(cached.reply, timings, t0, audio)
                async with contextlib.aclosing(spoken):
                    async for pcm in spoken:
                        yield pcm
        else:
            replies = self._sentences(text, conversation, history, fixed, timings, t0, on_token)
            async with contextlib.aclosing(replies):
                async for sentence in replies:
                    sentences.append(sentence.text)
                    yield sentence
                    if speak:
                        spoken = self._spoken(sentence.text, timings, t0, audio)
                        async with contextlib.aclosing(spoken):
                            async for pcm in spoken:
                                yield pcm
            if timings.source == "llm" and not history:
                joined = Pcm(b"".join(p.audio for p in audio), audio[0].rate_hz) if audio else None
                self.cache.put(text, " ".join(sentences), joined, voice_name)
        timings.total_ms = self._ms(t0)
        await asyncio.get_running_loop().run_in_executor(None, trim_heap)
        audio_s = sum(p.seconds for p in audio)
        yield TurnResult(text, " ".join(sentences), timings, audio_s, sentences=sentences)

    async def _spoken(self, text: str, timings: TurnTimings, t0: float, audio: list[Pcm]
                      ) -> AsyncIterator[Pcm]:
        blocks = self.speak(text, lead=not audio)
        async with contextlib.aclosing(blocks):
            async for pcm in blocks:
                if timings.first_audio_ms is None:
                    timings.first_audio_ms = self._ms(t0)
                audio.append(pcm)
                yield pcm

    async def turn(self, pcm: Pcm, conversation: str = "", *, t0: float | None = None,
                   timings: TurnTimings | None = None) -> AsyncIterator[TurnEvent]:
        """A whole voice turn from utterance audio: the transcript, sentences, audio, result."""
        t0 = self._clock() if t0 is None else t0
        timings = timings if timings is not None else TurnTimings()
        transcript = await self.transcribe(pcm)
        timings.stt_ms = self._ms(t0)
        yield transcript
        answer = self.answer(transcript.text, conversation, t0=t0, timings=timings)
        async with contextlib.aclosing(answer):
            async for event in answer:
                if isinstance(event, TurnResult):
                    event.transcript = transcript.text
                yield event

    def _ms(self, t0: float) -> float:
        return (self._clock() - t0) * 1000.0

