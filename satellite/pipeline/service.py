"""The turn service: one object every door (mic, Wyoming, CLI) calls for a turn.

It owns the rules, so no door repeats them: where a reply comes from (an empty
question, a clock answer, the intent fast path, the response cache, then the
LLM streamed sentence by sentence and checked by ``ReplyGuard``), conversation
memory, writing the cache, speaking, recording the turn and its metrics, and
what a failure means (``failures.classify``). The doors translate events.

Nothing here blocks the event loop: engines run through the ``EngineScheduler``
(one unit of work at a time per engine, the room first), the state database on
its own thread, hassil on a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from satellite.audio.pcm import Pcm
from satellite.config.schema import Config
from satellite.engines import Engines
from satellite.engines.llm import ChatMessage
from satellite.engines.stt import Transcript
from satellite.engines.tts import TextToSpeech
from satellite.engines.whisper_decode import PhraseOdds
from satellite.errors import EngineBrokenError, InputError, ModelError, RemoteError
from satellite.intents.recognizer import IntentMatch, IntentRecognizer
from satellite.intents.stop_words import is_stop
from satellite.pipeline.cache import CachedReply, ResponseCache
from satellite.pipeline.context import fit_context
from satellite.pipeline.doubt import stt_doubt
from satellite.pipeline.failures import Failure, classify
from satellite.pipeline.guard import NO_CLAIM, NO_CLAIM_BY_LANGUAGE, ReplyGuard
from satellite.pipeline.home import LOCAL_INTENTS, HomeRouter
from satellite.pipeline.local_answers import local_answer
from satellite.pipeline.memory import ConversationMemory
from satellite.pipeline.phrase_audio import PhraseAudio
from satellite.pipeline.scheduler import EngineScheduler, Priority
from satellite.pipeline.sentence_kind import asks_something, is_fragment
from satellite.pipeline.sentences import SentenceSplitter, split_sentences
from satellite.pipeline.speech_chunks import after_lead, speech_chunks, streamed_lead
from satellite.pipeline.store import StateDbWorker
from satellite.pipeline.turn import ReplySentence, TurnEvent, TurnRequest, TurnResult, TurnTimings
from satellite.pipeline.unsure import UNSURE, UNSURE_BY_LANGUAGE, UnsureCheck
from satellite.remote.monitor import RemoteMonitor
from satellite.runtime.heap import trim_heap
from satellite.runtime.state import RuntimeState
from satellite.timers import TimerService
from satellite.timers.model import Timer

_LOGGER = logging.getLogger(__name__)
TTS_AHEAD_BLOCKS = 4  # audio synthesized ahead of a slow consumer, holding no engine
NOTHING_HEARD = "Sorry, I didn't catch that."
NO_ANSWER = "Sorry, I can't help with that yet."
NO_QUESTION = "Sorry, I didn't catch a question there."
# (nothing heard, no answer, no question) per language; other languages get the English ones.
SORRY: dict[str, tuple[str, str, str]] = {
    "en": (NOTHING_HEARD, NO_ANSWER, NO_QUESTION),
    "es": ("Perdona, no te he entendido.", "Lo siento, todavía no puedo ayudarte con eso.",
           "Perdona, no he entendido ninguna pregunta."),
}
STATEMENT_SENTENCES = 2  # the most a reply to something that is not a question may say
_END = object()


class OtherRooms(Protocol):
    """The home's other rooms (``satellite.home.room_commands``): announcements, their timers."""

    def handles(self, match: IntentMatch) -> bool: ...

    async def answer(self, match: IntentMatch) -> str: ...


@dataclass(frozen=True)
class Lead:
    """The first words of the LLM's first sentence, certain before the sentence ends (``answer``
    speaks them at once, and the rest of the sentence when it comes)."""

    text: str


class TurnService:
    def __init__(self, config: Config, engines: Engines, scheduler: EngineScheduler,
                 cache: ResponseCache, memory: ConversationMemory, *,
                 recognizer: IntentRecognizer | None = None, home: HomeRouter | None = None,
                 timers: TimerService | None = None,
                 remotes: RemoteMonitor | None = None,
                 state: RuntimeState | None = None,
                 db: StateDbWorker | None = None, close_db: Callable[[], None] | None = None,
                 clock: Callable[[], float] = time.perf_counter,
                 now: Callable[[], dt.datetime] = dt.datetime.now):
        self.config = config
        self.engines = engines
        self.scheduler = scheduler
        self.cache = cache
        self.memory = memory
        self.recognizer = recognizer
        self.home = home or HomeRouter(None)
        self.timers = timers
        self.rooms: OtherRooms | None = None  # the home's other rooms, when the box has a home
        self.remotes = remotes  # publishes and re-probes the remote engines' links
        self.missed_timers: list[Timer] = []  # ran out while the process was down: to announce
        self.state = state if state is not None else RuntimeState()
        self.db = db or StateDbWorker()
        self._close_db = close_db
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turn-worker")
        self.clock = clock
        self._now = now
        self._nothing_heard, self._no_answer, self._no_question = SORRY.get(config.language,
                                                                            SORRY["en"])
        self._unsure = UNSURE_BY_LANGUAGE.get(config.language, UNSURE)
        self.phrases = PhraseAudio(config.cache.phrase_audio_bytes)  # fixed answers said before

    # -- engines -------------------------------------------------------------------------------

    async def transcribe(self, pcm: Pcm, priority: Priority = Priority.CLIENT,
                         hint: str | None = None, alternatives: int = 0) -> Transcript:
        """``hint``: words likely said (the stop words over a reply), for an engine that takes it;
        ``alternatives``: the beam's other hypotheses too, where the engine has them."""
        return await self.scheduler.run("stt", self.engines.stt.transcribe, pcm, hint,
                                        alternatives, priority=priority)

    async def phrase_odds(self, pcm: Pcm, phrases: Sequence[str]) -> PhraseOdds:
        """Whisper's reading of a wake word (``room.wake_check``): the room's, first in line."""
        return await self.scheduler.run("stt", self.engines.stt.phrase_odds,  # type: ignore[attr-defined]
                                        pcm, phrases, priority=Priority.ROOM)

    def voice(self, name: str | None) -> TextToSpeech:
        voices = self.engines.voices()
        if not name:
            return self.engines.tts
        if name not in voices:
            raise InputError(f"unknown voice '{name}'; available: {', '.join(voices)}")
        return voices[name]

    async def speak(self, text: str, voice: str | None = None, speaker: int | None = None, *,
                    lead: bool = False, priority: Priority = Priority.CLIENT) -> AsyncGenerator[Pcm, None]:
        """Synthesize ``text``: PCM blocks at the voice's rate, in bounded chunks.

        Each chunk is one unit of work on the TTS engine; the next chunk is made
        while the consumer handles this one, at most ``TTS_AHEAD_BLOCKS`` ahead, so a
        consumer that stalls holds memory for a few blocks and no engine.
        ``lead``: the start of a reply, whose first words are spoken on their own.
        """
        tts = self.voice(voice)
        chunks = speech_chunks(text, lead_words=self.config.tts.lead_words if lead else 0,
                               max_words=self.config.tts.max_chunk_words)
        blocks: asyncio.Queue[Any] = asyncio.Queue(maxsize=TTS_AHEAD_BLOCKS)

        async def produce() -> None:
            try:
                for chunk in chunks:
                    made = await self.scheduler.run(
                        "tts", lambda c=chunk: list(tts.synthesize(c, speaker)), priority=priority)
                    for pcm in made:
                        await blocks.put(pcm)
            except Exception as error:  # handed to the consumer, raised there
                await blocks.put(error)
            await blocks.put(_END)

        producer = asyncio.get_running_loop().create_task(produce(), name="tts chunks")
        try:
            while (item := await blocks.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer

    async def recognize(self, text: str) -> IntentMatch | None:
        """The intent fast path (hassil, pure Python: long text takes a while), off the event loop."""
        if self.recognizer is None or not text.strip():
            return None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self.recognizer.recognize, text)

    # -- turns ---------------------------------------------------------------------------------

    async def turn(self, pcm: Pcm, request: TurnRequest, transcript: Transcript | None = None
                   ) -> AsyncGenerator[TurnEvent, None]:
        """A whole voice turn: the transcript (given, or made here), then ``answer``'s events."""
        request.t0 = self.clock() if request.t0 is None else request.t0
        if transcript is None:
            transcript = await self.transcribe(pcm, request.priority)
        request.timings.stt_ms = self._ms(request.t0)
        yield transcript
        request.text = transcript.text
        request.doubt = request.doubt or self.doubt(transcript)
        answer = self.answer(request)
        async with contextlib.aclosing(answer):
            async for event in answer:
                yield event

    async def answer(self, request: TurnRequest) -> AsyncGenerator[ReplySentence | Pcm | TurnResult, None]:
        """The reply to ``request.text``: sentences and (``speak``) their audio as they come, then
        the result. Memory and the cache are written, and the turn recorded, before the result."""
        t0 = request.t0 = self.clock() if request.t0 is None else request.t0
        timings = request.timings
        text = request.text.strip()
        if len(text) > self.config.wyoming.max_text_chars:
            raise InputError(f"question longer than {self.config.wyoming.max_text_chars} characters")
        identity = self.engines.tts.identity() if request.speak else None
        fixed = await self._fast_answer(text, request)
        no_history: list[ChatMessage] = []
        history = await self.db.call(self.memory.history, request.conversation, default=no_history)
        cached: CachedReply | None = None
        if fixed is None and not history:
            cached = await self.db.call(self.cache.get, text, default=None)
        stored_audio = cached.audio if cached is not None and cached.voice == identity else None
        if cached is not None:
            fixed = (cached.reply, "cache")
        sentences: list[str] = []
        audio: list[Pcm] = []
        keep = identity if fixed is not None and fixed[1] != "cache" else None  # phrase audio's key
        replies = (self._fixed_sentences(*fixed, request) if fixed is not None
                   else self._llm_sentences(text, history, request))
        lead = ""  # the first sentence's lead, spoken while the model was still writing it

        async def say(text: str, kept_as: str | None, split_lead: bool = False
                      ) -> AsyncGenerator[Pcm, None]:
            """``text``'s audio: from memory if it was kept under the voice ``kept_as``, else made
            (and then kept). A reply from the response cache plays its stored audio."""
            kept = self.phrases.get(kept_as, text) if kept_as else None
            replay = stored_audio if stored_audio is not None else kept
            said = len(audio)
            spoken = (_one(replay) if replay is not None
                      else self.speak(text, lead=split_lead, priority=request.priority))
            async with contextlib.aclosing(spoken):
                async for pcm in spoken:
                    if timings.first_audio_ms is None:
                        timings.first_audio_ms = self._ms(t0)
                    audio.append(pcm)
                    yield pcm
            if kept_as and replay is None and len(audio) > said:
                self.phrases.put(kept_as, text, _joined(audio[said:]))

        async with contextlib.aclosing(replies):
            async for sentence in replies:
                if isinstance(sentence, Lead):  # only when speaking; first words repeat ("I'm sorry")
                    lead = sentence.text
                    async with contextlib.aclosing(say(lead, identity)) as spoken:
                        async for pcm in spoken:
                            yield pcm
                    continue
                if timings.first_sentence_ms is None:
                    timings.first_sentence_ms = self._ms(t0)
                sentences.append(sentence.text)
                yield sentence
                if not request.speak:
                    continue
                rest = after_lead(sentence.text, lead) if lead else None
                lead = ""
                # (a lead the guard then replaced is followed by all it said instead)
                kept_as = keep or self._kept_line(sentence.text, identity)
                spoken = (say(rest, None) if rest is not None
                          else say(sentence.text, kept_as, split_lead=not audio))
                async with contextlib.aclosing(spoken):
                    async for pcm in spoken:
                        yield pcm
        reply = " ".join(sentences)
        if timings.source == "llm" and reply not in (self._unsure, self._no_answer, ""):
            # Only the model's own answers are its history: a small model given the box's fixed
            # lines ("I'm not sure about that one.", "Okay.") says them again to the next question
            # ("Tell me a long story about the sea" → "I'm not sure about that one.", in the room)
            await self.db.call(self.memory.add_exchange, request.conversation, text, reply,
                               default=None)
        if timings.source == "llm" and not history:
            joined = _joined(audio) if audio else None
            await self.db.call(self.cache.put, text, reply, joined, identity, default=False)
        timings.total_ms = self._ms(t0)
        result = TurnResult(text, reply, timings, sum(p.seconds for p in audio), sentences=sentences)
        self.record(request, result)
        await asyncio.get_running_loop().run_in_executor(self._worker, trim_heap)
        yield result

    def _kept_line(self, sentence: str, identity: str | None) -> str | None:
        """The voice key under which a fixed line of an LLM turn ("I'm not sure about that one.")
        is kept, so it plays from memory; None for the model's own words."""
        return identity if sentence in (self._unsure, self._no_answer, self._no_question) else None

    def doubt(self, transcript: Transcript) -> str:
        """Why speech to text doubts this transcript's words, or "" (``pipeline.doubt``)."""
        return stt_doubt(transcript, self.config.stt.min_logprob)

    async def _fast_answer(self, text: str, request: TurnRequest) -> tuple[str, str] | None:
        """(reply, source) when no model is needed: no words (or words speech to text doubts),
        a clock question, the home."""
        if not text or request.doubt:
            if request.doubt:
                _LOGGER.info("transcript %r doubted (%s): not answered", text, request.doubt)
            return self._nothing_heard, "local"
        answer = local_answer(text, self._now, self.config.language)
        if answer:
            return answer, "local"
        if request.intents:
            match = self.timers.match(text) if self.timers is not None else None  # "stop", …
            match = match or await self.recognize(text)
            said = text
            if match is not None and match.heard is not None:  # a near miss: taken as the command
                said = match.text  # it was one word from ("¿Qué ora es?" → "Qué hora es")
                answer = local_answer(said, self._now, self.config.language)
                if answer:
                    return answer, "local"
            if match is not None and self.rooms is not None and self.rooms.handles(match):
                return await self.rooms.answer(match), "local"  # another room's, over the home's link
            if match is not None and self.timers is not None and self.timers.handles(match.name):
                # on the box, HA or not; a new timer is this room's
                return await self.timers.handle(match, self.config.room or None), "timer"
            if match is not None:  # about the home: Home Assistant does it, or we say why not
                return await self.home.answer(match, said, request.conversation)
        if is_stop(text, self.config.language):  # "Stop." once the reply is over: nothing to stop,
            return "", "local"  # and nothing to say (not "I didn't catch a question there")
        if is_fragment(text, self.config.language):  # "the blue one over": no model's guess
            return self._no_question, "local"
        return None

    async def is_home_command(self, text: str) -> bool:
        """Whether ``text`` is about the home (a device, an area, its state): what Home Assistant
        answers in hybrid mode. The clock, timers and "never mind" stay on the box."""
        text = text.strip()
        if not text or local_answer(text, self._now, self.config.language):
            return False
        if self.timers is not None and self.timers.match(text) is not None:
            return False
        match = await self.recognize(text)
        if match is None or match.name in LOCAL_INTENTS:
            return False
        if self.rooms is not None and self.rooms.handles(match):
            return False  # the home's other rooms: the box's own link, not Home Assistant
        return not (self.timers is not None and self.timers.handles(match.name))

    async def timer_command(self, text: str) -> IntentMatch | None:
        """A timer command ("stop" while one rings, "add two minutes", "set a pasta timer")."""
        if self.timers is None:
            return None
        match = self.timers.match(text)  # the box's own phrases first
        if match is None:
            match = await self.recognize(text)
        return match if match is not None and self.timers.handles(match.name) else None

    async def _fixed_sentences(self, reply: str, source: str, request: TurnRequest
                               ) -> AsyncGenerator[ReplySentence, None]:
        request.timings.source = source
        if not reply:  # nothing to say ("stop" silenced a ringing timer)
            request.timings.first_token_ms = self._ms(request.t0 or self.clock())
            return
        # A cached reply is one piece, as its stored audio is; a fresh one goes sentence by sentence.
        for sentence in ([reply] if source == "cache" else split_sentences(reply) or [reply]):
            if request.timings.first_token_ms is None:
                request.timings.first_token_ms = self._ms(request.t0 or self.clock())
            if request.on_token:
                request.on_token(sentence + " ")
            yield ReplySentence(sentence, source)

    async def _llm_sentences(self, text: str, history: list[ChatMessage], request: TurnRequest
                             ) -> AsyncGenerator[ReplySentence | Lead, None]:
        timings, t0 = request.timings, request.t0 or self.clock()
        timings.source = "llm"
        llm, llm_config = self.engines.llm, self.config.llm

        def generate(cancel: Any) -> Any:
            messages = fit_context(llm_config.system_prompt, history, text,
                                   count_tokens=llm.count_tokens, context_tokens=llm.context_tokens,
                                   reply_tokens=llm_config.max_tokens)
            if len(messages) - 2 < len(history):
                _LOGGER.info("conversation trimmed to fit the context: %d of %d messages kept",
                             len(messages) - 2, len(history))
            yield from llm.stream(messages, cancel)

        splitter = SentenceSplitter(first_clause_words=self.config.tts.first_clause_words)
        lead_words = self.config.tts.lead_words if request.speak else 0  # spoken before its sentence ends
        asked = asks_something(text, self.config.language)
        guard = ReplyGuard(llm_config.max_sentences if asked
                           else min(STATEMENT_SENTENCES, llm_config.max_sentences), echo_of=text,
                           no_claim=NO_CLAIM_BY_LANGUAGE.get(self.config.language, NO_CLAIM))
        check = UnsureCheck(text, self.config.language, llm_config.min_confidence)
        stream = self.scheduler.stream("llm", generate, priority=request.priority)

        def spoken(sentences: list[str]) -> list[str]:
            """What the guard and the confidence check let through of these sentences."""
            kept: list[str] = []
            for sentence in check.filter(sentences, upto=len(check.text) - len(splitter.pending)):
                said = guard.accept(sentence)
                if said is not None:
                    kept.append(said)
                if guard.stopped:
                    break
            if check.stopped and not guard.stopped:
                guard.stopped_because = check.stopped
            return kept

        clause_counted = False
        async with contextlib.aclosing(stream):
            async for piece in stream:
                if timings.first_token_ms is None:
                    timings.first_token_ms = self._ms(t0)
                if request.on_token:
                    request.on_token(piece)
                check.feed(piece)
                sentences = splitter.feed(piece)
                if sentences and splitter.clause_emitted and not clause_counted:
                    clause_counted = True
                    guard.max_sentences += 1  # a first clause does not use up a sentence
                for said in spoken(sentences):
                    yield ReplySentence(said, "llm")
                if guard.stopped:
                    break
                if lead_words and not splitter.started:
                    lead = streamed_lead(splitter.pending, lead_words)
                    if lead is not None and guard.may_begin(splitter.pending) and check.may_begin(lead):
                        lead_words = 0
                        yield Lead(lead)
        if not guard.stopped:
            rest = splitter.flush()
            for said in spoken(rest):
                yield ReplySentence(said, "llm")
        for said in check.finish():  # a question answered by nothing but its own words
            yield ReplySentence(said, "llm")
        if check.confidence is not None:
            request.details["confidence"] = round(check.confidence, 3)
        if guard.stopped_because and guard.stopped_because != "max_sentences":
            _LOGGER.info("reply cut short: %s", guard.stopped_because)
        if not guard.accepted and not check.said_unsure:
            yield ReplySentence(self._no_answer if asked else self._no_question, "llm")

    # -- recording -----------------------------------------------------------------------------

    def record(self, request: TurnRequest, result: TurnResult) -> None:
        """One turn: RuntimeState (status page, metrics) and one INFO line."""
        t = result.timings
        timings: dict[str, Any] = {**t.as_dict(), **request.details}
        self.state.record_turn(request.door, result.transcript, result.reply, t.source, timings)
        _LOGGER.info(
            "turn (%s): %r -> %r (%s) | end of speech %s · stt %s · first token %s · first audio %s"
            " · last voiced → first reply audio %s · total %s", request.door, result.transcript,
            result.reply, t.source or "-", _ms(t.end_of_speech_ms), _ms(t.stt_ms),
            _ms(t.first_token_ms), _ms(t.first_audio_ms), _ms(t.first_reply_audio_ms),
            _ms(t.total_ms))

    def record_failure(self, door: str, error: BaseException) -> Failure:
        """Count and log a failed turn once; the door presents the returned ``Failure``."""
        failure = classify(error)
        self.state.metrics.errors.labels(kind=failure.kind).inc()
        if failure.expected:
            _LOGGER.warning("%s turn failed: %s", door, error)
        else:
            _LOGGER.error("%s turn failed", door, exc_info=error)
        return failure

    # -- lifecycle -----------------------------------------------------------------------------

    async def self_test(self) -> dict[str, float]:
        """One tiny inference per local engine (ms each), which also warms them: the LLM keeps the
        system prompt's state for the first real turn, the intent recognizer its compiled sentences.
        Raises ``ModelError`` when one fails. Remote stages are left to the ``RemoteMonitor``: a
        remote that is down at start is a degraded component, not a box that cannot start."""
        llm, prompt = self.engines.llm, self.config.llm.system_prompt
        tests: dict[str, Callable[[], Any]] = {
            "stt": lambda: self.engines.stt.transcribe(Pcm.silence(0.5)),
            "llm": lambda: "".join(llm.stream([ChatMessage("system", prompt),
                                               ChatMessage("user", "Hello.")], max_tokens=2)),
            "tts": lambda: list(self.engines.tts.synthesize("Ready.")),
        }
        took_ms: dict[str, float] = {}
        for stage, test in tests.items():
            if stage in self.engines.links or stage in self.engines.broken:  # a remote: the
                continue  # monitor probes it; a broken engine: the probe said so, and why
            start = self.clock()
            try:
                await self.scheduler.run(stage, test, priority=Priority.ROOM)
            except Exception as error:
                raise ModelError(f"{stage} self-test failed: {type(error).__name__}: {error}"
                                 ) from error
            took_ms[stage] = self._ms(start)
        if isinstance(self.recognizer, IntentRecognizer):  # hassil compiles its sentences on first
            # use (~0.35 s); a remote recognizer is the monitor's
            start = self.clock()
            await self.recognize("turn on the light")
            if self.timers is not None:  # the box's own timer phrases compile on first use too
                await asyncio.get_running_loop().run_in_executor(
                    self._worker, self.timers.match, "set a timer for five minutes")
            # the exact answers' libraries load on first use (~0.2 s for pint's units)
            await asyncio.get_running_loop().run_in_executor(
                self._worker, local_answer, "convert 2 miles to kilometers", self._now,
                self.config.language)
            took_ms["intent"] = self._ms(start)
        return took_ms

    async def prerender(self, texts: tuple[str, ...]) -> dict[str, Pcm]:
        """Audio of fixed phrases, made now so that saying them later needs no engine. A remote
        voice that is down leaves its phrases out (``render_missing`` tries again later)."""
        rendered: dict[str, Pcm] = {}
        for text in texts:
            try:
                blocks = await self.scheduler.run(
                    "tts", lambda t=text: list(self.engines.tts.synthesize(t)), priority=Priority.ROOM)
            except (RemoteError, EngineBrokenError) as error:
                _LOGGER.warning("phrase %r not rendered ahead: %s", text, error)
                continue
            if blocks:
                rendered[text] = _joined(blocks)
        return rendered

    async def keep_common_phrases(self, priority: Priority = Priority.ROOM) -> int:
        """Synthesize now the fixed answers the room hears most (see ``PhraseAudio``), sentence by
        sentence as ``answer`` speaks them; the number kept."""
        identity = self.engines.tts.identity()
        common = (self._nothing_heard, self._no_question, self._unsure, *self.home.common_replies())
        for text in common:
            for n, sentence in enumerate(split_sentences(text) or [text]):
                if (identity, sentence) in self.phrases:
                    continue
                try:
                    blocks = [pcm async for pcm in self.speak(sentence, lead=n == 0, priority=priority)]
                except (RemoteError, EngineBrokenError) as error:  # a remote voice that is down: said
                    # when it is back; a broken one: never
                    _LOGGER.warning("phrase %r not rendered ahead: %s", sentence, error)
                    return len(self.phrases)
                if blocks:
                    self.phrases.put(identity, sentence, _joined(blocks))
        return len(self.phrases)

    async def start(self) -> None:
        """Connect what the service talks to (Home Assistant, remote engines); never waits for it."""
        if self.remotes is not None:
            await self.remotes.start()
        if self.home.client is not None:
            await self.home.client.start()
        if self.timers is not None:
            self.missed_timers = await self.timers.start()
            if self.missed_timers:
                _LOGGER.info("timers that ran out while the box was down: %s",
                             self.timers.answers.missed(self.missed_timers, self.timers.now()))

    async def stop(self) -> None:
        if self.remotes is not None:
            await self.remotes.close()
        if self.timers is not None:
            await self.timers.close()
        if self.home.client is not None:
            await self.home.client.close()

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the engine pool (running units are not awaited) and close the state database."""
        self.scheduler.shutdown()
        self._worker.shutdown(wait=False, cancel_futures=True)
        self.db.close(self._close_db, timeout_s)

    def _ms(self, t0: float) -> float:
        return (self.clock() - t0) * 1000.0


async def _one(pcm: Pcm) -> AsyncGenerator[Pcm, None]:
    yield pcm


def _joined(blocks: list[Pcm]) -> Pcm:
    """Non-empty ``blocks`` of one voice as one piece."""
    return Pcm(b"".join(p.audio for p in blocks), blocks[0].rate_hz)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


__all__ = ["TurnService", "TurnTimings"]
