"""Turn-taking for one room: audio frames → VAD segments → (wake word) → a voice turn → the sink.

Rules, in the order a person meets them:

- Without a wake word every utterance is a turn. With a wake word model, an
  utterance is a turn when the wake word was heard in it or just before it
  (``WAKE_WINDOW_S``); with ``phrase``, when its transcript starts with the
  assistant's name. After a reply, ``wake.followup_s`` of no-wake-word-needed.
- One turn at a time. An utterance that ends while a turn is still being
  prepared (STT, LLM) waits for it, one deep: a newer one replaces it.
- The assistant never answers itself: while a reply plays (and ``ECHO_TAIL_S``
  after it) the capture is gated. With ``audio.barge_in`` the capture stays
  open instead: confirmed user speech (the wake word, if one is configured)
  stops the playback and becomes the next turn.
- STT starts speculatively when silence begins; if speech resumes the result
  is discarded, if not it is the turn's transcript (``last voiced frame →
  first reply audio`` loses most of the VAD wait).
- Every turn logs one INFO line and is recorded in ``RuntimeState``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from satellite.audio.convert import PcmConverter
from satellite.audio.pcm import Pcm
from satellite.audio.sinks import AudioSink
from satellite.audio.wav import read_wav
from satellite.config.schema import Config
from satellite.engines.stt import Transcript
from satellite.engines.vad import VoiceActivityDetector
from satellite.engines.wake import WakeWordDetector, strip_wake_phrase
from satellite.errors import AudioError, SatelliteError
from satellite.pipeline.segmenter import (
    SegmentEvent,
    SilenceBegan,
    SpeechDiscarded,
    SpeechResumed,
    SpeechStarted,
    UtteranceEnded,
    VadSegmenter,
)
from satellite.pipeline.turn import TurnResult, TurnTimings, VoicePipeline
from satellite.runtime.state import RuntimeState

_LOGGER = logging.getLogger(__name__)

WAKE_BACKLOG_CHUNKS = 50  # ~3 s of audio waiting for the wake word model: drop, count overruns
WAKE_WINDOW_S = 5.0  # an utterance starting this long after the wake word still counts
ECHO_TAIL_S = 0.3  # capture stays gated this long after playback (device and room latency)
CONVERSATION_PREFIX = "mic"
_NON_WORDS = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*")


def has_words(text: str) -> bool:
    """False for empty transcripts and Whisper's non-speech tags ([BLANK_AUDIO], (music))."""
    return bool(re.search(r"\w", _NON_WORDS.sub("", text)))


@dataclass
class _Pending:
    utterance: UtteranceEnded
    last_voiced_wall: float
    woken: bool


class Listener:
    def __init__(self, config: Config, pipeline: VoicePipeline, state: RuntimeState,
                 sink: AudioSink | None, vad: VoiceActivityDetector,
                 wake: WakeWordDetector | None = None,
                 clock: Callable[[], float] = time.monotonic, speculative_stt: bool = True):
        self.config = config
        self.pipeline = pipeline
        self.state = state
        self.sink = sink
        self.vad = vad
        self.wake = wake
        self.clock = clock
        self.speculative_stt = speculative_stt
        self.segmenter = VadSegmenter(vad.frame_samples, **self._segmenter_options(config))
        self._buffer = b""
        self._stream_s = 0.0  # stream time of the audio fed so far
        self._wall_offset = 0.0  # wall clock minus stream time, updated per chunk
        self._wake_s: float | None = None  # stream time of the last wake word
        self._followup_until = 0.0  # wall clock
        self._conversation_serial = 0
        self._conversation_base = f"{CONVERSATION_PREFIX}-{uuid.uuid4().hex[:8]}"  # one per listener
        self._gate_until = 0.0  # wall clock
        self._speaking = False
        self._gated = False
        self._turn: asyncio.Task[None] | None = None
        self._pending: _Pending | None = None
        self._speculation: tuple[int, asyncio.Task[Transcript]] | None = None
        self._chimes: dict[str, Pcm | None] = {}
        self._chime_task: asyncio.Task[None] | None = None
        self._wake_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wake")
        self._wake_backlog = 0
        self._deciding = 0
        self._background: set[asyncio.Task[None]] = set()
        self.turns_done = 0
        self.ignored = 0
        self.barge_ins = 0
        self.idle = asyncio.Event()
        self.idle.set()

    # -- configuration -------------------------------------------------------------------------

    @staticmethod
    def _segmenter_options(config: Config) -> dict[str, Any]:
        return {"preroll_ms": config.vad.preroll_ms, "hangover_ms": config.vad.hangover_ms,
                "min_speech_ms": config.vad.min_speech_ms,
                "max_utterance_s": config.vad.max_utterance_s}

    def reconfigure(self, config: Config) -> None:
        """Apply what can change while running (SIGHUP): VAD, wake and turn-taking settings."""
        self.config = config
        self.vad.configure(config.vad)
        self.segmenter.configure(**self._segmenter_options(config))
        if self.wake is not None:
            self.wake.configure(config.wake)
        self._chimes.clear()

    @property
    def wake_mode(self) -> str:
        return self.config.wake.engine

    # -- audio in ------------------------------------------------------------------------------

    def on_audio(self, pcm: Pcm) -> None:
        """A chunk of 16 kHz mono audio from the source (called on the event loop)."""
        now = self.clock()
        self._stream_s += pcm.seconds
        self._wall_offset = now - self._stream_s
        self._buffer += pcm.audio
        size = self.vad.frame_bytes
        if self._capture_gated(now):
            whole = len(self._buffer) // size
            self.segmenter.skip(whole)
            self._buffer = self._buffer[whole * size:]
            return
        if self.wake is not None and self._wake_needed(now):
            self._detect_wake_word(pcm.audio, self._stream_s)
        offset = 0
        while len(self._buffer) - offset >= size:
            frame = self._buffer[offset:offset + size]
            offset += size
            for event in self.segmenter.feed(frame, self.vad.is_speech(frame)):
                self._on_segment(event)
            if self._speaking and self.config.audio.barge_in:
                self._maybe_barge_in()
        self._buffer = self._buffer[offset:]

    def end_of_input(self) -> None:
        for event in self.segmenter.flush():
            self._on_segment(event)

    async def drain_wake(self) -> None:
        """Until the wake word model has heard every chunk fed so far (end of input, tests)."""
        if self.wake is not None:
            await asyncio.get_running_loop().run_in_executor(self._wake_executor, lambda: None)
            await asyncio.sleep(0)  # let the last result callbacks run

    def _capture_gated(self, now: float) -> bool:
        gated = (self._speaking or now < self._gate_until) and not self.config.audio.barge_in
        if gated and not self._gated:
            self.segmenter.reset()
            self.vad.reset()
            self._drop_speculation()
        self._gated = gated
        return gated

    def _wake_needed(self, now: float) -> bool:
        return now >= self._followup_until or self._speaking

    def _detect_wake_word(self, audio: bytes, stream_s: float) -> None:
        """Run the wake word model on its own thread, in order; a backlog is counted and dropped."""
        assert self.wake is not None
        if self._wake_backlog >= WAKE_BACKLOG_CHUNKS:
            self.state.metrics.audio_overruns.labels(device="wake").inc()
            return
        self._wake_backlog += 1
        future = asyncio.get_running_loop().run_in_executor(
            self._wake_executor, self.wake.process, audio, stream_s)
        future.add_done_callback(lambda done: self._wake_result(done, stream_s))

    def _wake_result(self, done: asyncio.Future[bool], stream_s: float) -> None:
        self._wake_backlog -= 1
        if done.cancelled():
            return
        if done.exception() is not None:
            _LOGGER.error("wake word model failed", exc_info=done.exception())
        elif done.result():
            self._on_wake_word(stream_s)

    def _on_wake_word(self, stream_s: float) -> None:
        assert self.wake is not None
        _LOGGER.info("wake word %s heard", self.wake.name)
        self._wake_s = stream_s
        if not self._speaking and self._turn is None:
            awake = self._chime("awake")
            if awake is not None and self.sink is not None:
                self._chime_task = asyncio.get_running_loop().create_task(self._play_chime(awake))

    def _maybe_barge_in(self) -> None:
        if self.segmenter.voiced_ms < self.config.vad.min_speech_ms:
            return
        if self.wake is not None and not self._woken_since(self.segmenter.stream_s - 3.0):
            return
        if self._turn is not None and not self._turn.done() and not self._turn.cancelling():
            _LOGGER.info("barge-in: user speech during playback, stopping the reply")
            self.barge_ins += 1
            self._turn.cancel()

    def _woken_since(self, stream_s: float) -> bool:
        return self._wake_s is not None and self._wake_s >= stream_s

    # -- segments → turns ----------------------------------------------------------------------

    def _on_segment(self, event: SegmentEvent) -> None:
        if isinstance(event, SpeechStarted):
            _LOGGER.debug("speech started at %.2f s", event.start_s)
        elif isinstance(event, SilenceBegan):
            self._speculate(event)
        elif isinstance(event, SpeechResumed):
            self._drop_speculation()
        elif isinstance(event, SpeechDiscarded):
            _LOGGER.debug("discarded %.0f ms of sound at %.2f s (%s)", event.voiced_ms,
                          event.start_s, event.reason)
        elif isinstance(event, UtteranceEnded):
            self._on_utterance(event)

    def _addressed(self, event: UtteranceEnded, now: float) -> bool | None:
        """True: a turn. False: not for us. None: decided by the transcript (phrase mode)."""
        if self.wake_mode == "none" or self._in_followup(event, now):
            return True
        if self.wake_mode == "phrase":
            return None
        woken = self._wake_s is not None and (
            event.audio_start_s - WAKE_WINDOW_S <= self._wake_s <= event.decided_s + 0.1)
        return woken

    def _in_followup(self, event: UtteranceEnded, now: float) -> bool:
        return event.start_s + self._wall_offset <= self._followup_until

    def _speculate(self, event: SilenceBegan) -> None:
        if not self.speculative_stt or self._turn is not None:
            return
        if self.wake_mode in ("micro", "openwakeword") and not self._woken_since(
                event.last_voiced_s - 30.0) and self.clock() >= self._followup_until:
            return
        self._drop_speculation()
        task = asyncio.get_running_loop().create_task(self.pipeline.transcribe(event.pcm))
        self._speculation = (event.utterance, task)

    def _drop_speculation(self) -> None:
        if self._speculation is not None:
            _, task = self._speculation
            task.add_done_callback(_consume_result)
            self._speculation = None

    def _on_utterance(self, event: UtteranceEnded, recheck: bool = True) -> None:
        now = self.clock()
        if (recheck and self.wake is not None and self._wake_backlog
                and not self._in_followup(event, now)):
            # The wake word model has not heard all of this utterance yet: decide once it has.
            self._deciding += 1
            self.idle.clear()
            task = asyncio.get_running_loop().create_task(self._decide_after_wake(event))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return
        addressed = self._addressed(event, now)
        if addressed is False:
            self._drop_speculation()
            self.ignored += 1
            _LOGGER.debug("utterance at %.2f s without the wake word: ignored", event.start_s)
            return
        if addressed and self.wake_mode in ("micro", "openwakeword"):
            self._wake_s = None  # one wake word, one turn
        pending = _Pending(event, event.last_voiced_s + self._wall_offset, addressed is True)
        if self._turn is not None and not self._turn.done():
            if self._speaking and self.config.audio.barge_in:
                self._turn.cancel()
            else:
                if self._pending is not None:
                    _LOGGER.info("a newer utterance replaces the one waiting for the current turn")
                self._pending = pending
                return
        self._start_turn(pending)

    async def _decide_after_wake(self, event: UtteranceEnded) -> None:
        try:
            await self.drain_wake()
            self._on_utterance(event, recheck=False)
        finally:
            self._deciding -= 1
            if self._turn is None and self._pending is None and not self._deciding:
                self.idle.set()

    def _start_turn(self, pending: _Pending) -> None:
        speculation = None
        if self._speculation is not None and self._speculation[0] == pending.utterance.utterance:
            speculation = self._speculation[1]
            self._speculation = None
        else:
            self._drop_speculation()
        _LOGGER.debug("turn started: utterance %d, %.2f-%.2f s%s", pending.utterance.utterance,
                      pending.utterance.start_s, pending.utterance.last_voiced_s,
                      " (speculative STT)" if speculation is not None else "")
        self.idle.clear()
        self._turn = asyncio.get_running_loop().create_task(self._guarded_turn(pending, speculation))
        self._turn.add_done_callback(self._turn_done)

    def _turn_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            _LOGGER.info("turn cancelled")
        elif task.exception() is not None:
            _LOGGER.error("turn failed", exc_info=task.exception())
        self._turn = None
        pending, self._pending = self._pending, None
        if pending is not None:
            self._start_turn(pending)
        elif not self._deciding:
            self.idle.set()

    async def wait_idle(self) -> None:
        """Until no turn runs or waits (end of input, tests)."""
        while (self._turn is not None or self._pending is not None or self._deciding
               or not self.idle.is_set()):
            await self.idle.wait()
            await asyncio.sleep(0)

    # -- a turn --------------------------------------------------------------------------------

    async def _guarded_turn(self, pending: _Pending,
                            speculation: asyncio.Task[Transcript] | None) -> None:
        """A turn that fails for an expected reason (busy engines, a broken speaker) is one log line."""
        try:
            await self._run_turn(pending, speculation)
        except SatelliteError as error:
            _LOGGER.warning("turn failed: %s", error)
            kind = "audio_output" if isinstance(error, AudioError) else type(error).__name__
            if not isinstance(error, AudioError):  # the speaker's failure is already counted
                self.state.metrics.errors.labels(kind=kind).inc()

    async def _run_turn(self, pending: _Pending, speculation: asyncio.Task[Transcript] | None
                        ) -> None:
        utterance = pending.utterance
        t0 = self.clock()
        timings = TurnTimings(end_of_speech_ms=utterance.end_of_speech_ms)
        if speculation is not None:
            transcript = await speculation
        else:
            transcript = await self.pipeline.transcribe(utterance.pcm)
        timings.stt_ms = (self.clock() - t0) * 1000.0
        text = self._question(transcript.text, pending)
        if text is None:
            self.ignored += 1
            return
        reply_audio_wall: float | None = None
        result: TurnResult | None = None
        if self._chime_task is not None:
            await self._chime_task  # the awake chime finishes before the reply starts
            self._chime_task = None
        try:
            done = self._chime("done")
            if done is not None and self.sink is not None:
                await self._play(done)
            answer = self.pipeline.answer(text, self._conversation(pending), t0=t0, timings=timings,
                                          speak=self.sink is not None)
            async with contextlib.aclosing(answer):  # type: ignore[type-var]
                async for event in answer:
                    if isinstance(event, Pcm):
                        if reply_audio_wall is None:
                            reply_audio_wall = self.clock()
                        await self._play(event)
                    elif isinstance(event, TurnResult):
                        result = event
            if self.sink is not None:
                await self._end_reply()
        except asyncio.CancelledError:
            await self._abort_playback()
            raise
        finally:
            self._speaking = False
            self._gate_until = self.clock() + ECHO_TAIL_S
        self._followup_until = self.clock() + self.config.wake.followup_s
        assert result is not None
        first_reply_ms = (None if reply_audio_wall is None
                          else (reply_audio_wall - pending.last_voiced_wall) * 1000.0)
        self._record(transcript.text, result, first_reply_ms, utterance)

    def _conversation(self, pending: _Pending) -> str:
        """The conversation a mic turn belongs to.

        A turn that starts inside the follow-up window of the previous reply
        continues that conversation (memory is in the prompt); any other starts
        a new one. Unrelated questions minutes apart carry no history, which
        also keeps the LLM prompt short (history costs ~250 ms of prefill per
        turn with SmolLM2 on 2 cores once the window slides).
        """
        if not self._in_followup(pending.utterance, self.clock()):
            self._conversation_serial += 1
        return f"{self._conversation_base}-{self._conversation_serial}"

    def _question(self, transcript: str, pending: _Pending) -> str | None:
        """The question to answer, or None when the utterance is not one (no words, no name)."""
        text = transcript.strip()
        if not has_words(text):
            _LOGGER.info("utterance at %.2f s had no words; no turn", pending.utterance.start_s)
            return None
        if self.wake_mode == "phrase" and not pending.woken:
            stripped = strip_wake_phrase(text, self.config.wake.phrase)
            if stripped is None:
                _LOGGER.debug("'%s' does not start with '%s': ignored", text,
                              self.config.wake.phrase)
                return None
            return stripped or text
        if self.wake is not None:
            stripped = strip_wake_phrase(text, self.wake.phrase)
            if stripped is not None and has_words(stripped):
                return stripped
        return text

    async def _play(self, pcm: Pcm) -> None:
        assert self.sink is not None
        self._speaking = True
        try:
            await self.sink.play(pcm)
        except AudioError as error:
            self._speaker_failed(error)
            raise

    async def _end_reply(self) -> None:
        assert self.sink is not None
        try:
            await self.sink.end_reply()
        except AudioError as error:
            self._speaker_failed(error)
            raise
        self.state.set_component("speaker", "ready", self.sink.name)

    async def _abort_playback(self) -> None:
        if self.sink is not None:
            with contextlib.suppress(AudioError):
                await self.sink.abort()

    async def _play_chime(self, pcm: Pcm) -> None:
        """The awake chime: the capture stays open (the question often follows the wake word
        without a pause, and a short chime is below ``vad.min_speech_ms`` anyway)."""
        assert self.sink is not None
        try:
            await self.sink.play(pcm)
            await self._end_reply()
        except AudioError as error:
            self._speaker_failed(error)

    def _speaker_failed(self, error: AudioError) -> None:
        _LOGGER.warning("audio output %s failed: %s", getattr(self.sink, "name", "?"), error)
        self.state.set_component("speaker", "degraded", str(error))
        self.state.metrics.errors.labels(kind="audio_output").inc()

    def _chime(self, which: str) -> Pcm | None:
        if which not in self._chimes:
            path = self.config.audio.awake_wav if which == "awake" else self.config.audio.done_wav
            pcm = None
            if path:
                try:
                    pcm = read_wav(path, convert=False)
                    rate = self.pipeline.engines.tts.voice.sample_rate_hz
                    pcm = PcmConverter(rate).convert(pcm)
                except (OSError, ValueError, SatelliteError) as error:
                    _LOGGER.warning("cannot use %s chime %s: %s", which, path, error)
                    pcm = None
            self._chimes[which] = pcm
        return self._chimes[which]

    def _record(self, transcript: str, result: TurnResult, first_reply_ms: float | None,
                utterance: UtteranceEnded) -> None:
        self.turns_done += 1
        timings = result.timings.as_dict()
        timings.update({
            "first_reply_audio_ms": None if first_reply_ms is None else round(first_reply_ms, 1),
            "utterance_start_s": round(utterance.start_s, 3),
            "utterance_end_s": round(utterance.last_voiced_s, 3),
            "utterance_s": round(utterance.pcm.seconds, 3),
        })
        self.state.record_turn("mic", transcript, result.reply, result.timings.source, timings)
        _LOGGER.info(
            "turn: %r -> %r (%s) | end of speech %s · stt %s · first token %s · first audio %s · "
            "last voiced → first reply audio %s · total %s", transcript, result.reply,
            result.timings.source or "-", _ms(result.timings.end_of_speech_ms),
            _ms(result.timings.stt_ms), _ms(result.timings.first_token_ms),
            _ms(result.timings.first_audio_ms), _ms(first_reply_ms), _ms(result.timings.total_ms))

    # -- shutdown ------------------------------------------------------------------------------

    async def stop(self, grace_s: float) -> None:
        """Let the current turn finish within ``grace_s``, then cancel it; drop what waits."""
        self._pending = None
        self._drop_speculation()
        turn = self._turn
        if turn is not None and not turn.done():
            done, _ = await asyncio.wait({turn}, timeout=grace_s)
            if not done:
                _LOGGER.info("current turn did not finish within %.1f s: aborting it", grace_s)
                turn.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await turn
        await self._abort_playback()
        self._wake_executor.shutdown(wait=False, cancel_futures=True)


def _consume_result(task: asyncio.Task[Transcript]) -> None:
    """A discarded speculative STT: retrieve its outcome so nothing is logged as lost."""
    if not task.cancelled() and task.exception() is not None:
        _LOGGER.debug("speculative STT failed: %s", task.exception())


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"
