"""The room's I/O shell: audio → VAD segments → the room's state machine → a voice turn → the speaker.

The parts, each with one job: ``RoomMachine`` (the room's state and every
turn-taking decision, sans IO), ``VadFrontEnd`` (frames → segment events),
``WakeGate`` (the wake word model), ``TurnRunner`` (one turn at a time, queue,
cancel, speculative STT), ``Playback`` (speaker, chimes). The turn itself is the
``TurnService``'s; here it is only heard and played.

Rules, in the order a person meets them:

- The assistant never answers itself: while its voice sounds the capture is
  closed. With ``audio.barge_in`` and the echo canceller working it stays open
  instead: the wake word over a reply or an announcement stops it and what
  follows becomes the next turn; a stop word ("stop", "never mind", "para"…,
  ``intents.stop_words``) stops it without the wake word, and stops a turn
  still thinking; nothing else said over it does.
- The room always hears something: its turns go before any network client's
  on every engine, and a turn that fails gets a short spoken apology
  (rendered at start, so it needs no engine).
- STT starts speculatively when silence begins (``last voiced frame → first
  reply audio`` loses most of the VAD wait), and its transcript decides the end
  (adaptive endpointing): a finished question ends as soon as it is known, one
  that trails off ("and…") waits longer than the hangover.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from satellite.audio.echo import EchoCanceller, EchoStatus
from satellite.audio.pcm import Pcm
from satellite.audio.sinks import AudioSink
from satellite.config.schema import Config
from satellite.engines.stt import Transcript
from satellite.engines.vad import VoiceActivityDetector
from satellite.engines.wake import CHECK_AFTER_S, OPENWAKEWORD_CUTOFF, WakeCandidate, WakeWordDetector
from satellite.errors import AudioError
from satellite.home.arbiter import Decision as HomeDecision
from satellite.home.service import HomeService
from satellite.intents.mute_words import MUTED_REPLY, is_mute_request
from satellite.intents.stop_words import ALTERNATIVES, RING_MIN_LOGPROB, STOP_HINTS, is_stop, stop_heard
from satellite.pipeline.failures import ENGINE_BROKEN, REMOTE_DOWN, SPOKEN_PHRASES
from satellite.pipeline.scheduler import Priority
from satellite.pipeline.service import TurnService
from satellite.pipeline.turn import TurnRequest, TurnResult, TurnTimings
from satellite.room.announcer import Announcer
from satellite.room.assist_turns import AssistTurns
from satellite.room.endpointing import Ending, judge, silence_to_wait_ms
from satellite.room.frontend import VadFrontEnd
from satellite.room.levels import RoomLevel
from satellite.room.machine import (
    MIN_QUESTION_S,
    MODEL_MODES,
    STOP_MAX_S,
    Decision,
    RoomMachine,
    Utterance,
    Verdict,
    WakeAction,
)
from satellite.room.mute import PrivacyMute
from satellite.room.playback import Playback
from satellite.room.segmenter import (
    SegmentEvent,
    SilenceBegan,
    SpeechDiscarded,
    SpeechResumed,
    UtteranceEnded,
)
from satellite.room.timer_bell import TimerBell
from satellite.room.turn_runner import PendingTurn, TurnRunner
from satellite.room.wake_check import RecentAudio, WakeChecker, wake_check_for
from satellite.room.wake_cut import FIRED_MARGIN_S, question_start_s
from satellite.room.wake_gate import WakeGate, has_words
from satellite.runtime.heap import trim_heap

_LOGGER = logging.getLogger(__name__)
ANY_LOGPROB = -100.0  # a stop word as Whisper's first reading without the prompt: at any figure
CONVERSATION_PREFIX = "mic"
AWAKE_CHIME_QUIET_S = 0.4  # the awake chime once the room is this quiet after the wake word...
AWAKE_CHIME_WAIT_S = 1.5  # ... within this long of it (else the question went on: no chime)
PACED_AHEAD_S = 0.5  # audio further ahead of real time than this is not live (adaptive endpointing)
EARLY_STOP_WAKE_LAG_S = 0.25  # the wake word model this far behind: no stop check before the end
EARLY_STOP_MORE_S = 0.06  # sound this much past an early stop check's audio: the whole is checked
EARLY_STOP_WAIT_S = 10.0  # an early stop check waits this long at most for its utterance's end
# A stop word Whisper doubted (only among its other hypotheses, or heard again without the
# prompt) in speech the canceller took this much or more out of is the box's own voice: a
# person's voice over a reply lost 0.6-6.5 dB in 19 of the room's stop words (the echo under
# it); the box's own voice 35-44 dB, and the residual Whisper made "That's enough." of 14.6 dB
# (docs/benchmarks.md). A person 3 dB or more under the box's echo at the microphone loses
# 10 dB too (and AEC3 mangles their words): a stop word Whisper is sure of is not judged by it.
OWN_VOICE_DB = 10.0

__all__ = ["Listener", "has_words"]


class Listener:
    def __init__(self, config: Config, turns: TurnService, sink: AudioSink | None,
                 vad: VoiceActivityDetector,
                 wake: WakeWordDetector | None = None,
                 clock: Callable[[], float] = time.monotonic, speculative_stt: bool = True):
        self.config = config
        self.turns = turns
        self.state = state = turns.state  # where turns are recorded, and the components live
        self.clock = clock
        self.speculative_stt = speculative_stt
        self.echo = EchoCanceller(config.audio, sink is not None and sink.audible)
        if sink is not None and self.echo.wants_reference:
            # what the room hears from the box: the echo canceller's reference
            sink.watch(self.echo.played, self.echo.stopped, self.echo.player_started)
        self._echo_status: EchoStatus | None = None
        self.room = RoomMachine(config.wake.engine, config.wake.followup_s,
                                config.wake.question_wait_s)
        state.room_phase = self.room.phase.value
        self.room.on_phase = lambda phase: setattr(state, "room_phase", phase.value)
        self.frontend = VadFrontEnd(config, vad)
        self.wake = WakeGate(config, wake, state.metrics, self._on_wake_word, self._on_candidate)
        self.wake_check = WakeChecker(None, turns.phrase_odds, self._on_wake_word, state.metrics,
                                      config.wake.threshold or getattr(wake, "model_cutoff",
                                                                       OPENWAKEWORD_CUTOFF),
                                      self._on_wake_rejected)
        self._set_wake_check(config)
        self.playback = Playback(config, sink, state, turns.engines.tts.voice.sample_rate_hz,
                                 self.room)
        self._report_echo()
        self.runner = TurnRunner(self._guarded_turn, self.room)
        # a ring that comes due while a question is heard or answered is skipped: "stop" said in a
        # ring's pause is then heard clean (over the ring Whisper heard "I'm quiet", "Okay, go")
        self.bell = (TimerBell(turns.timers, turns, self.playback,
                               lambda: self.runner.running or self.room.speech, clock)
                     if turns.timers is not None else None)
        self.announcer = Announcer(turns, self.playback, clock)  # the home's other rooms speak here
        self._assist: AssistTurns | None = None
        self.mute = PrivacyMute(state.metrics)
        state.mute = self.mute.status
        state.mute_switch = self.switch_mute
        self.mute.watch(self._mute_changed)
        self._phrases_task: asyncio.Task[None] | None = None
        self.levels = RoomLevel()  # how loud the room is over its noise: the home's claims
        self.home: HomeService | None = None  # the home's other boxes, when it has any
        self._arbitrating: asyncio.Task[None] | None = None
        self._claimed_s: float | None = None  # the wake word claimed to the home, being checked
        self.yielded = 0  # wake words another box of the home answered
        self._was_gated = False
        # a wake word's stream time, its chime not played yet, and the stream time it is given up by
        self._chime_after: tuple[float, float] | None = None
        self._conversation_serial = 0
        self._conversation_base = f"{CONVERSATION_PREFIX}-{uuid.uuid4().hex[:8]}"  # one per listener
        self.ignored = 0
        self.barge_ins = 0
        self.stops = 0  # replies stopped by a stop word
        self._stop_checks: set[asyncio.Task[None]] = set()
        self._early_stop_check: _EarlyStopCheck | None = None
        # the last utterance said while a turn thought, checked for a stop word: the question,
        # if the turn turns out to have had none (``_question_still_to_come``)
        self._said_while_thinking: UtteranceEnded | None = None

    @property
    def assist(self) -> AssistTurns | None:
        """The Assist satellite role, when the daemon serves it."""
        return self._assist

    @assist.setter
    def assist(self, assist: AssistTurns | None) -> None:
        self._assist = assist
        if assist is not None:  # Home Assistant's mute switch is the privacy mute too
            assist.link.on_mute = self._home_assistant_mute

    def switch_mute(self, muted: bool) -> None:
        """The switch (``POST /mute``, ``/unmute``): unmuting lifts every mute."""
        if muted:
            self.mute.mute("switch")
        else:
            self.mute.unmute()

    def _home_assistant_mute(self, muted: bool) -> None:
        if muted:
            self.mute.mute("home assistant")
        else:
            self.mute.unmute("home assistant")

    async def prepare(self) -> None:
        """Render the spoken apologies now, while the engines are idle; timers ring in this room."""
        if self.playback.sink is not None:
            self.playback.phrases = await self.turns.prerender(self._apologies())
            self._phrases_task = asyncio.get_running_loop().create_task(
                self._keep_common_phrases(), name="common phrases")
        if self.bell is not None:
            self.bell.attach()
            self.bell.announce_missed()
        if self.assist is not None:
            await self.assist.prepare()
        if self.config.audio.muted:
            self.mute.mute("switch")

    async def _keep_common_phrases(self) -> None:
        """After start, behind any turn (the engines' client priority): the fixed answers this room
        will hear most, made once so that they start at once (``PhraseAudio``)."""
        try:
            kept = await self.turns.keep_common_phrases(Priority.CLIENT)
        except Exception:  # never fatal: the phrases are then made when first said
            _LOGGER.warning("common phrases not rendered ahead", exc_info=True)
            return
        await asyncio.get_running_loop().run_in_executor(None, trim_heap)  # Piper's transient buffers
        _LOGGER.debug("%d common phrases kept", kept)

    def _apologies(self) -> tuple[str, ...]:
        """What the room may hear when a turn fails: the common apologies, and for each remote
        stage the one that names it."""
        remote = tuple(REMOTE_DOWN[stage] for stage in self.turns.engines.links if stage in REMOTE_DOWN)
        broken = tuple(ENGINE_BROKEN[stage] for stage in self.turns.engines.broken)
        muted = (MUTED_REPLY.get(self.config.language, MUTED_REPLY["en"]),)
        return SPOKEN_PHRASES + remote + broken + muted

    async def _say_apology(self, text: str) -> None:
        """A prerendered apology; one that could not be rendered at start (its remote voice was
        down) is rendered now if the voice is back, within ``tts.timeout_s``."""
        if text not in self.playback.phrases and self.playback.sink is not None:
            self.playback.phrases.update(await self.turns.prerender((text,)))
        if not await self.playback.say(text) and self.playback.sink is not None:
            _LOGGER.warning("the apology %r could not be played", text)

    def reconfigure(self, config: Config) -> None:
        """Apply what can change while running (SIGHUP): VAD, wake and turn-taking settings."""
        self.config = config
        self.room.configure(config.wake.engine, config.wake.followup_s, config.wake.question_wait_s)
        self.frontend.reconfigure(config)
        self.wake.reconfigure(config)
        self._set_wake_check(config)
        self.playback.reconfigure(config)
        self._echo_status = None  # audio.barge_in may have changed: /status says so
        self._report_echo()
        if config.audio.muted:
            self.mute.mute("switch")
        elif "switch" in self.mute.by:
            self.mute.unmute()

    def _set_wake_check(self, config: Config) -> None:
        """Whisper's check of the wake word (``wake.check``), on or off and why on /status."""
        check, why = wake_check_for(config.wake, self.wake.detector, self.turns.engines.stt,
                                    config.stt.language)
        self.wake_check.check = check
        if (check is None) != (self.wake.recent is None):
            self.wake.recent = RecentAudio() if check is not None else None
        if self.wake.detector is not None:
            self.wake.detector.check_from(check.check_from if check is not None else 0.0)
        self.state.set_component("wake_check", "ready" if check else "off",
                                 check.describe() if check else why)

    # -- audio in --------------------------------------------------------------------------------

    def on_audio(self, pcm: Pcm) -> None:
        """A chunk of 16 kHz mono audio from the source (called on the event loop)."""
        if self.room.muted:
            return  # (the capture hands nothing on while muted; a chunk already on its way is lost)
        now = self.clock()
        pcm = self.echo.process(pcm, now)
        self._report_echo()
        if not pcm.audio:
            return  # less than one 10 ms frame: the canceller holds it for the next chunk
        self.levels.feed(pcm, self.frontend.stream_s + pcm.seconds)
        self.room.observe(now, speech=self.frontend.voiced_ms > 0,
                          ringing=self.bell is not None and self.bell.ringing,
                          remote=self.assist is not None and self.assist.busy,
                          hears_over_voice=self.barge_in)
        gated = not self.room.capture_open(now)
        if gated and not self._was_gated:
            self.frontend.reset()
            self.wake.reset()
            self.runner.drop_speculation()
            self._drop_early_stop_check()
        self._was_gated = gated
        if self.assist is not None:
            self.assist.hear(pcm, self.frontend.stream_s + pcm.seconds)
        if not gated and self.wake.listening():
            self.wake.hear(pcm.audio, self.frontend.stream_s + pcm.seconds,
                           live=self.frontend.ahead_s < PACED_AHEAD_S,
                           over_voice=self.room.sounding and self.barge_in)
        for event in self.frontend.feed(pcm, now, gated=gated):
            self._on_segment(event)
        self._maybe_chime(gated)
        if (self.frontend.voiced_ms >= self.config.vad.min_speech_ms
                and self.room.barge_in_by_wake(self.frontend.segmenter.stream_s)):
            self._barge_in("the wake word")

    def _barge_in(self, by: str, stop: Callable[[], bool] | None = None) -> None:
        """Stop the box's voice for what the person said over it (counted once per reply):
        everything it sounds (``_stop_voice``), or only what ``stop`` stops."""
        if (stop or self._stop_voice)():
            _LOGGER.info("barge-in: %s over the box's voice, stopping it", by)
            self.barge_ins += 1

    def _maybe_chime(self, gated: bool) -> None:
        """The awake chime, once the room has been quiet ``AWAKE_CHIME_QUIET_S`` after the wake
        word; none when the question follows it at once. Played at the wake word, it sounded
        over the question's first words ("Tell me a long story" heard "Want me to long story",
        "Lock" as "Walk"): whoever waits for it gets it, whoever goes on is not talked over."""
        if self._chime_after is None:
            return
        woke_s, by_s = self._chime_after
        segmenter = self.frontend.segmenter
        quiet_s = segmenter.stream_s - max(woke_s, segmenter.last_voiced_end_s)
        if gated or self.runner.running or segmenter.stream_s > by_s:
            self._chime_after = None  # the question went on (or a turn, a reply): no chime
        elif quiet_s >= AWAKE_CHIME_QUIET_S:
            self._chime_after = None
            self.playback.start_awake_chime()

    @property
    def barge_in(self) -> bool:
        """Whether the room is heard while the box speaks: ``audio.barge_in`` with the echo
        canceller taking the box's own voice out. Without it the capture is gated during a
        reply (the reply's echo would reach the wake word and the stop words)."""
        return self.config.audio.barge_in and self.echo.cancelling and self.echo.live

    def _report_echo(self) -> None:
        """The "echo" and "barge_in" components on /status: on, or off and why."""
        status = self.echo.status
        if status != self._echo_status:
            self._echo_status = status
            self.state.set_component("echo", status.state, status.detail)
            barge_in = self._barge_in_status()
            before = self.state.components.get("barge_in")
            if before is not None and before.state != barge_in[0]:
                _LOGGER.info("barge-in %s: %s", barge_in[0], barge_in[1])
            self.state.set_component("barge_in", *barge_in)

    def _barge_in_status(self) -> tuple[str, str]:
        if not self.config.audio.barge_in:
            return "off", "audio.barge_in is off"
        if not self.barge_in:
            return "off", f"no echo canceller ({self.echo.status.detail}): a reply plays to its end"
        by_wake = (f"the wake word ({self.wake_word_name})" if self.wake.mode in MODEL_MODES
                   else None)
        return "ready", " or ".join(w for w in (by_wake, "a stop word") if w) + " stops a reply"

    @property
    def wake_word_name(self) -> str | None:
        """The wake word model's id ("okay_nabu"), as Home Assistant is told it."""
        detector = self.wake.detector
        return detector.name.split(":", 1)[-1] if detector is not None else None

    async def _ask_live(self, assist: AssistTurns, stream_s: float) -> None:
        await assist.ask_live(stream_s, self.wake_word_name)
        self.room.open_followup(self.clock())  # a follow-up needs no wake word, as after any reply

    def end_of_input(self) -> None:
        for event in self.frontend.flush():
            self._on_segment(event)

    async def drain_wake(self) -> None:
        await self.wake.drain()

    async def wait_idle(self) -> None:
        """Until no turn runs, waits or is decided, and no speech is being checked for a stop word."""
        while True:
            await self.runner.wait_idle()
            if not self._stop_checks:
                return
            await asyncio.wait(set(self._stop_checks))

    def _on_candidate(self, candidate: WakeCandidate, pcm: Pcm) -> None:
        home = self.home
        if home is not None and self._claimed_s is not None and not self.wake_check.busy:
            self._on_wake_rejected(self._claimed_s)  # its check never came (dropped): withdrawn
        if home is not None and self._claimed_s is None and self._may_claim():
            # Other boxes may hear it too: claim it now, while Whisper checks the phrase (the
            # check's time differs from box to box; the model's firing does not).
            home.claim(self.levels.over_floor(), candidate.peak)
            self._claimed_s = candidate.fired_s
        self.wake_check.candidate(candidate, pcm)  # calls _on_wake_word if Whisper hears the phrase

    def _may_claim(self) -> bool:
        """Whether the home weighs this wake word (over this box's own reply or turn the
        conversation is this room's: no need to ask)."""
        return not self.room.turn and not self.room.sounding and self._arbitrating is None

    def _on_wake_rejected(self, fired_s: float) -> None:
        if self.home is not None and self._claimed_s == fired_s:
            self._claimed_s = None
            self.home.withdraw()

    def _on_wake_word(self, stream_s: float) -> None:
        home = self.home
        if home is not None:
            claimed = self._claimed_s == stream_s
            deciding: Awaitable[HomeDecision] | None = None
            if claimed:
                self._claimed_s = None
                deciding = home.decide()
            elif self._may_claim():  # a wake word no check reads: claimed now
                deciding = home.claim_and_decide(self.levels.over_floor(),
                                                 getattr(self.wake.detector, "score", 1.0))
            if deciding is not None:
                self._arbitrating = asyncio.get_running_loop().create_task(
                    self._arbitrate(deciding, stream_s), name="home arbitration")
                return
        self._wake_word_heard(stream_s)

    async def _arbitrate(self, deciding: Awaitable[HomeDecision], stream_s: float) -> None:
        try:
            answer = (await deciding).answer
        except Exception:  # the home's link failing never costs the room its answer
            _LOGGER.warning("home: the wake word could not be weighed; this box answers",
                            exc_info=True)
            answer = True
        finally:
            self._arbitrating = None
        if answer:
            self._wake_word_heard(stream_s)
        else:
            self.yielded += 1  # no chime: another room has it, and this room's follow-up ends
            self.room.another_box_answers()

    def _wake_word_heard(self, stream_s: float) -> None:
        assist = self.assist
        action = self.room.wake_word(
            stream_s, can_stream=assist is not None and assist.streams_after_wake_word())
        if self.room.barge_in_by_wake(self.frontend.segmenter.stream_s):
            # Said over the box's voice: it stops now, though the person may have paused since.
            # A wake word Whisper checked comes up to ~1.5 s after it was said (the reply's
            # model and voice share the CPU): "Okay Nabu." may be over by then, and the reply
            # played on over the question after it.
            self._barge_in("the wake word")
        if action is WakeAction.STREAM and assist is not None:
            # satellite mode: the wake word starts Home Assistant's pipeline at once
            if self.runner.start_task(self._ask_live(assist, stream_s), "assist turn"):
                self.room.consume_wake()  # this wake word has its turn
                self.playback.start_awake_chime()
        elif action is WakeAction.CHIME:
            # once the room is quiet after it (_maybe_chime); a wake word Whisper checked comes
            # later than it was said, and has its chance at once if the room is quiet by then
            self._chime_after = (stream_s, max(stream_s + AWAKE_CHIME_WAIT_S,
                                               self.frontend.segmenter.stream_s + 0.1))

    def _mute_changed(self, muted: bool) -> None:
        """The microphone went off or on: what was heard so far is forgotten either way."""
        self.room.mute_changed(muted)
        self._chime_after = None
        self.frontend.reset()
        self.wake.reset()
        self.runner.drop_speculation()
        self._drop_early_stop_check()
        if muted and self.assist is not None:
            self.assist.microphone_off()
        self.playback.start_mute_chime(muted)

    def _stop_voice(self) -> bool:
        """Stop what the box is doing for the room: the turn (thinking or speaking), what Home
        Assistant plays and another room's announcement. True if something was stopped."""
        stopped = self.runner.cancel_current()
        if self.assist is not None and self.assist.player.stop():
            stopped = True
        if self.announcer.stop():
            stopped = True
        return stopped

    # -- segments → turns ------------------------------------------------------------------------

    def _on_segment(self, event: SegmentEvent) -> None:
        if isinstance(event, SilenceBegan):
            self._check_for_stop_early(event)
            self._speculate(event)
        elif isinstance(event, SpeechResumed):
            self.runner.drop_speculation()
            self._drop_early_stop_check(event.utterance)
        elif isinstance(event, SpeechDiscarded):
            _LOGGER.debug("discarded %.0f ms of sound at %.2f s (%s)", event.voiced_ms,
                          event.start_s, event.reason)
        elif isinstance(event, UtteranceEnded):
            self._on_utterance(event)

    def _speculate(self, event: SilenceBegan) -> None:
        if not self.speculative_stt or self.runner.running:
            return
        if not self.room.speculation_worthwhile(event.last_voiced_s, self.clock()):
            return
        # After a wake word heard in this utterance, only what follows it is the question.
        cut = _after_wake_word(event.pcm, event.audio_start_s, self.room.wake_s,
                               event.last_voiced_s)
        task = asyncio.get_running_loop().create_task(
            self.turns.transcribe(cut or event.pcm, Priority.ROOM), name="speculative stt")
        self.runner.speculate(event.utterance, task, cut_at_wake=cut is not None)
        if self.config.vad.adaptive_endpoint and self.frontend.ahead_s < PACED_AHEAD_S:
            # The transcript decides the end: the silence waits for it (on real-time input only:
            # audio read faster than real time would outrun the transcript).
            self.frontend.segmenter.hold(self.config.vad.trailing_hangover_ms)
            task.add_done_callback(functools.partial(self._on_speculated, event.utterance))

    def _on_speculated(self, utterance: int, task: asyncio.Task[Transcript]) -> None:
        """Adaptive endpointing: the utterance's silence waits for its speculative transcript
        (up to ``trailing_hangover_ms``). Finished → it ends now (after ``min_hangover_ms``);
        a sentence that asks nothing → it waits ``sentence_hangover_ms``; trailing off or a request
        without its object → it waits the whole ``trailing_hangover_ms`` for the rest."""
        vad = self.config.vad
        segmenter = self.frontend.segmenter
        if (segmenter.utterance != utterance or not segmenter.speculating
                or not self.runner.speculating(task)):
            return  # it ended already, or speech resumed
        if task.cancelled() or task.exception() is not None or not vad.adaptive_endpoint:
            segmenter.hold(vad.hangover_ms)  # no judgement: the configured hangover
            return
        transcript = task.result()
        ending = judge(transcript.text, transcript.language or self.config.language)
        if ending is not Ending.COMPLETE:
            wait_ms = silence_to_wait_ms(ending, vad)
            _LOGGER.debug("%r (%s): waiting up to %d ms", transcript.text, ending.value, wait_ms)
            segmenter.hold(wait_ms)
        elif segmenter.silence_ms >= vad.min_hangover_ms:
            ended = segmenter.end_now("complete")
            if ended is not None:
                self._on_segment(ended)
        else:
            segmenter.hold(vad.min_hangover_ms, "complete")  # finished: the shortest hangover

    def _utterance(self, event: UtteranceEnded) -> Utterance:
        return Utterance(event.start_s, event.audio_start_s, event.last_voiced_s, event.decided_s,
                         self.frontend.wall_offset)

    def _on_utterance(self, event: UtteranceEnded, recheck: bool = True) -> None:
        utterance = self._utterance(event)
        early = self._early_stop_check
        if early is not None and early.covers(event):
            early.end.sound.set()  # a stop word it heard need not wait for a wake word's check
        checking = ((self.wake.hearing_candidate or self.wake_check.busy)
                    and not self.room.heard_in(utterance))  # (a wake word already in it: go on)
        if (recheck and (self.wake.behind or checking or self._arbitrating is not None)
                and (self.home is not None or not self.room.in_followup(utterance))):
            # The wake word model has not heard all of this utterance yet, or Whisper checks a
            # wake word in it: decide once they have (in a home even in the follow-up: a wake
            # word another box takes ends it).
            self.runner.decide_later(self._decide_after_wake(event))
            return
        decision = self.room.decide(utterance)
        if _LOGGER.isEnabledFor(logging.DEBUG):
            taken_db = self.echo.taken_out_db(event.start_s, event.last_voiced_s)
            _LOGGER.debug("utterance %d (%.2f-%.2f s): %s; the canceller took %s out of it",
                          event.utterance, event.start_s, event.last_voiced_s,
                          decision.verdict.name, "n/a" if taken_db is None else f"{taken_db:.1f} dB")
        if decision.verdict is not Verdict.TURN:
            self.runner.drop_speculation()
        if early is not None and early.utterance == event.utterance:
            if (decision.verdict is Verdict.STOP_CHECK and not early.task.cancelled()
                    and early.covers(event)):
                early.end.decided.set()  # it ended where the check's audio did: what it heard counts
                return
            # (a wake word in it after all, or sound after the check's audio: a quiet gap began
            # the check, "Okay" of "Okay Nabu" and the start of "Na-" were heard "Enough.")
            self._drop_early_stop_check(event.utterance)
        if decision.verdict is Verdict.STOP_CHECK:
            if decision.over == "the turn":
                self._said_while_thinking = event
            self._check_for_stop(event.pcm, event.start_s, event.last_voiced_s, event.reason,
                                 decision.over)
            return
        if decision.verdict is Verdict.IGNORED:
            self.ignored += 1
            if decision.over:
                _LOGGER.info("%.1f s of speech over %s without the wake word: ignored",
                             utterance.spoken_s, decision.over)
            else:
                _LOGGER.debug("utterance at %.2f s without the wake word: ignored", event.start_s)
            return
        if decision.verdict is Verdict.QUESTION_NEXT:
            # the wake word alone ("Okay Nabu" … pause …)
            self._await_question(self.frontend.wall_time(event.heard_end_s))
            return
        self._submit(event, decision)

    def _submit(self, event: UtteranceEnded, decision: Decision) -> None:
        """An utterance decided to be a turn: it runs now, or after the one running."""
        _LOGGER.debug("utterance %d ended (%s): sound end %.3f s, VAD's last voiced %.3f s, decided "
                      "%.3f s (stream time); wall offset %.3f", event.utterance, event.reason,
                      event.heard_end_s, event.last_voiced_s, event.decided_s, self.frontend.wall_offset)
        pending = PendingTurn(event, self.frontend.wall_time(event.heard_end_s), decision.woken,
                              decision.wake_s, decision.ring_only,
                              _after_wake_word(event.pcm, event.audio_start_s, decision.wake_s,
                                               event.last_voiced_s))
        if decision.replaces_reply:
            # the new question replaces the reply being spoken (its wake word stopped nothing
            # while the speech went on)
            self._barge_in("a question with the wake word", self.runner.cancel_current)
        self.runner.submit(pending)

    def _check_for_stop_early(self, event: SilenceBegan) -> None:
        """Speech over the box's voice is transcribed for a stop word as soon as its silence
        begins (``SilenceBegan``), while the hangover runs, not once it has ended: Whisper's time
        and the hangover's overlap, and the reply stops ~0.3 s sooner. What it heard counts once
        the utterance has ended there; speech that resumes drops it (a prefix is not the
        utterance: "Okay Nabu" cut before the question was heard "Enough.") and the utterance's
        end checks all of it. Not while the wake word model is far behind (a loaded box): a wake
        word in it (a barge-in) is for the utterance's end to find, and Whisper is then wanted
        for the question."""
        utterance = Utterance(event.start_s, event.audio_start_s, event.last_voiced_s,
                              self.frontend.segmenter.stream_s, self.frontend.wall_offset)
        if utterance.spoken_s > STOP_MAX_S or self._stop_checks:
            return
        over = self.room.unaddressed_over_voice(utterance)
        if not over:
            return
        if self.wake.behind_s > EARLY_STOP_WAKE_LAG_S:
            _LOGGER.debug("speech over %s: checked for a stop word at its end (the wake word model "
                          "is %.0f ms behind)", over, self.wake.behind_s * 1000)
            return
        end = _UtteranceEnd()
        task = self._check_for_stop(event.pcm, event.start_s, event.last_voiced_s, "silence began",
                                    over, end)
        if task is not None:
            self._early_stop_check = _EarlyStopCheck(event.utterance, task, end,
                                                     event.last_voiced_s)

    def _drop_early_stop_check(self, utterance: int | None = None) -> None:
        """Speech went on after the pause (``utterance``), or the capture was reset (any)."""
        early = self._early_stop_check
        if early is not None and utterance in (None, early.utterance):
            self._early_stop_check = None
            early.task.cancel()
            self._stop_checks.discard(early.task)  # (the utterance's own check may begin now)
            _LOGGER.debug("speech went on after a pause (or the capture was reset): its stop "
                          "check is dropped")

    def _check_for_stop(self, pcm: Pcm, start_s: float, last_voiced_s: float, reason: str, over: str,
                        utterance_ended: _UtteranceEnd | None = None
                        ) -> asyncio.Task[None] | None:
        if self._stop_checks:  # one at a time: the reply's model and voice share the CPU with it
            self.ignored += 1
            _LOGGER.info("speech over %s while another is being checked for a stop word: "
                         "ignored", over)
            return None
        task = asyncio.get_running_loop().create_task(
            self._stop_if_asked(pcm, start_s, last_voiced_s, reason, over, utterance_ended),
            name="stop word")
        self._stop_checks.add(task)
        task.add_done_callback(self._stop_checks.discard)
        return task

    async def _hear_for_stop(self, pcm: Pcm) -> Transcript:
        """Speech over the box's own sound, transcribed with the stop words as Whisper's prompt,
        with the beam's other hypotheses (``stop_words.stop_heard``)."""
        return await self.turns.transcribe(pcm, Priority.ROOM, STOP_HINTS.get(self.config.language),
                                           ALTERNATIVES)

    async def _stop_if_asked(self, pcm: Pcm, start_s: float, last_voiced_s: float, reason: str,
                             over: str,
                             utterance_ended: _UtteranceEnd | None = None
                             ) -> None:
        """Speech over the box's voice or a turn: a stop word stops it; anything else is ignored.
        Heard before its utterance ended (``utterance_ended``: the room decided it was speech
        to check for a stop word, and its sound ended there), it waits for that end: a stop
        word for the sound's end only. A wake word candidate in it (Whisper reads those over
        the box's voice under the model's cutoff there: "Stop talking." scored 0.14) held a
        stop word back by Whisper's reading, ~0.6 s; with a wake word in it, the reply stops
        either way."""
        began = self.clock()
        taken_db = self.echo.taken_out_db(start_s, last_voiced_s)
        taken = "n/a" if taken_db is None else f"{taken_db:.1f} dB"
        try:
            transcript = await self._hear_for_stop(pcm)
            _LOGGER.debug("speech over %s checked %.0f ms after its last voiced frame (%s), heard "
                          "in %.0f ms", over, (began - self.frontend.wall_time(last_voiced_s)) * 1000,
                          reason, (self.clock() - began) * 1000)
            language = transcript.language or self.config.language
            heard = stop_heard(transcript, language)
            stop = heard is not None
            doubted = heard is not None and heard != transcript.text
            if doubted and not is_stop(transcript.text, language):
                # Only among the beam's other hypotheses, the first reading being other words:
                # the prompt may have made it up from another sentence ("What time is it?" over
                # a reply read as "This is it.", with "That's enough." among the others, stopped
                # it). Read without the prompt, a real one is still a stop word, first or among
                # the others. (A first reading that is a stop word itself, only unsure, is not
                # read again: over the residual of a canceller still converging, a real "Stop."
                # read as "Stop talking." at -0.46 was "That part." without the prompt.)
                plain = await self.turns.transcribe(pcm, Priority.ROOM, None, ALTERNATIVES)
                stop = stop_heard(plain, plain.language or language, ANY_LOGPROB) is not None
                _LOGGER.info("%r over %s (mean log-probability %s): %r is among Whisper's other "
                             "hypotheses; without the prompt %r (%s)", transcript.text.strip(),
                             over, _logprob(transcript), heard, plain.text.strip(),
                             "a stop word" if stop else "no stop word")
            if not stop and is_stop(transcript.text, language):
                # A stop word, but unsure: the prompt makes one up from the box's own residual
                # echo at -0.5 to -0.95, and a real "Stop." over a badly cancelled reply scored
                # -0.72. Heard without the prompt, a real one is still a stop word; the residual
                # is numbers or nothing ("12", "Thar.").
                plain = await self.turns.transcribe(pcm, Priority.ROOM)
                stop = doubted = is_stop(plain.text, plain.language or language)
                _LOGGER.info("%r over %s, unsure (mean log-probability %s): heard without the "
                             "prompt as %r", transcript.text.strip(), over, _logprob(transcript),
                             plain.text.strip())
        except Exception:  # the reply goes on; the turn that follows reports a broken engine
            _LOGGER.warning("speech over %s could not be transcribed", over, exc_info=True)
            return
        if utterance_ended is not None:
            try:
                await asyncio.wait_for(utterance_ended.wait(stop), EARLY_STOP_WAIT_S)
            except TimeoutError:
                return  # (an utterance that never ended is the listener's to report)
        text = (heard or transcript.text).strip()
        if stop and doubted and taken_db is not None and taken_db >= OWN_VOICE_DB:
            _LOGGER.info("%r over %s, doubted: the canceller took %s out of it, the box's own "
                         "voice: ignored", text, over, taken)
            self.ignored += 1
            return
        if not stop:
            _LOGGER.info("%r over %s, without the wake word: not a stop word (mean log-probability "
                         "%s; the canceller took %s out of it), ignored", text, over,
                         _logprob(transcript), taken)
            self.ignored += 1
            return
        # (Whisper's doubt is not asked: it doubted the test's "Stop!" over a reply, as it does
        # many one-word clips; a stop word made up from noise costs the rest of one reply, and
        # the canceller has taken the reply itself out)
        if (self.room.turn or self.room.sounding) and self._stop_voice():
            _LOGGER.info("stop: %r over %s (the canceller took %s out of it), stopping it", text,
                         over, taken)
            self.stops += 1

    def _await_question(self, said_wall: float) -> None:
        """The wake word was said alone, its utterance ending at wall time ``said_wall``."""
        until = self.room.wake_word_alone(self.clock(), said_wall)
        _LOGGER.info("wake word alone: waiting %.0f s for the question",
                     self.config.wake.question_wait_s)
        asyncio.get_running_loop().call_later(self.config.wake.question_wait_s + 0.1,
                                              self._question_timeout, until)

    def _question_still_to_come(self, pending: PendingTurn) -> None:
        """What the wake word's window took for its question had none in it (a cough, a click,
        the reply's tail after a barge-in): the window stays open for the question. (It closed
        on the sound, and the question after it was speech without the wake word.)"""
        until = self.room.question_not_asked(self._utterance(pending.utterance), self.clock())
        if until is None:
            return
        said, self._said_while_thinking = self._said_while_thinking, None
        if said is not None and said.start_s > pending.utterance.start_s:
            # the question came while this was being transcribed, and was taken for speech
            # over the turn (checked for a stop word): it is the question after all
            decision = self.room.decide(self._utterance(said))
            if decision.verdict is Verdict.TURN:
                _LOGGER.info("the question came meanwhile (at %.2f s): it is the question",
                             said.start_s)
                self._submit(said, decision)
                return
        _LOGGER.info("still waiting %.1f s for the question", until - self.clock())

    def _question_timeout(self, until: float) -> None:
        if not self.room.question_timed_out(until):
            return  # the question came
        _LOGGER.info("no question after the wake word: back to sleep")
        self.playback.start_chime("done")

    async def _decide_after_wake(self, event: UtteranceEnded) -> None:
        await self.wake.drain()
        loop = asyncio.get_running_loop()
        until = loop.time() + CHECK_AFTER_S + 1.0  # (the input may end before the candidate does)
        utterance = self._utterance(event)
        while (self.wake.hearing_candidate and not self.room.heard_in(utterance)
               and loop.time() < until):
            await asyncio.sleep(0.02)  # the candidate hears the rest of its phrase
            await self.wake.drain()
        if not self.room.heard_in(utterance):
            await self.wake_check.settled()
        arbitrating = self._arbitrating
        if arbitrating is not None:  # the home is deciding which box answers
            await asyncio.wait({arbitrating})
        self._on_utterance(event, recheck=False)

    # -- a turn ----------------------------------------------------------------------------------

    async def _guarded_turn(self, pending: PendingTurn,
                            speculation: asyncio.Task[Transcript] | None) -> None:
        """A turn that fails is counted, logged once, and answered out loud."""
        try:
            await self._run_turn(pending, speculation)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            failure = self.turns.record_failure("mic", error)
            if not isinstance(error, AudioError):
                await self._say_apology(failure.spoken)
                self.playback.finished(self.clock())

    async def _run_turn(self, pending: PendingTurn,
                        speculation: asyncio.Task[Transcript] | None) -> None:
        utterance = pending.utterance
        t0 = self.turns.clock()  # the turn's timings are on the service's clock
        timings = TurnTimings(end_of_speech_ms=utterance.end_of_speech_ms)
        if speculation is not None:
            transcript = await speculation
        else:  # the audio after the wake word when it was heard inside (over an echo, mid-sentence)
            transcript = await self.turns.transcribe(pending.question or utterance.pcm, Priority.ROOM)
        timings.stt_ms = (self.turns.clock() - t0) * 1000.0
        text = self.wake.question(transcript.text, pending.woken)
        if text == "" and pending.wake_s is not None:  # the recognizer heard the wake word alone
            self._await_question(pending.last_voiced_wall)
            return
        if text is None or not has_words(text):
            _LOGGER.info("utterance at %.2f s had no question in it (%r); no turn",
                         utterance.start_s, transcript.text)
            self.ignored += 1
            self._question_still_to_come(pending)
            return
        doubt = self.turns.doubt(transcript)
        if pending.ring_only and (doubt or await self.turns.timer_command(text) is None):
            # one word said over a ring is often misheard or doubted ("Start." or "Okay, start" at
            # -0.85 for "Okay, stop."): once more, with the stop words as Whisper's prompt
            again = await self._hear_for_stop(pending.question or utterance.pcm)
            heard = stop_heard(again, again.language or self.config.language, RING_MIN_LOGPROB)
            if heard is None:
                _LOGGER.info("%r while a timer rings, without the wake word: not for us (heard "
                             "again as %r, mean log-probability %s)", text, again.text,
                             _logprob(again))
                self.ignored += 1
                return
            _LOGGER.info("%r while a timer rings: heard again as %r", text, heard)
            text, doubt = heard, ""
        # words nobody said are answered "didn't catch that" only when someone called the box;
        # always listening (wake none) or in a follow-up they are the room's noise
        if doubt and pending.wake_s is None:
            _LOGGER.info("utterance at %.2f s: speech to text doubts %r (%s); no turn",
                         utterance.start_s, transcript.text, doubt)
            self.ignored += 1
            self._question_still_to_come(pending)
            return
        language = transcript.language or self.config.language
        if not pending.ring_only and is_mute_request(text, language):
            await self._mute_by_voice(text, language, timings)
            return
        if (self.assist is not None and not pending.ring_only and not doubt
                and await self.assist.routes_to_home_assistant(text)):
            await self.playback.awake_chime_done()
            await self.assist.ask_recorded(pending.question or utterance.pcm, text,
                                           pending.last_voiced_wall,
                                           self.wake_word_name if pending.wake_s is not None else None)
            self.room.open_followup(self.clock())
            return
        request = TurnRequest(
            text, door="mic", conversation=self._conversation(pending),
            speak=self.playback.sink is not None, priority=Priority.ROOM, t0=t0, timings=timings,
            doubt=doubt,
            details={"utterance_start_s": round(utterance.start_s, 3),
                     "utterance_end_s": round(utterance.last_voiced_s, 3),
                     "utterance_s": round(utterance.pcm.seconds, 3), "end": utterance.reason})
        await self.playback.awake_chime_done()
        async with self.playback.lock:
            await self._answer_out_loud(request, pending)
        self.room.open_followup(self.clock())

    async def _mute_by_voice(self, text: str, language: str, timings: TurnTimings) -> None:
        """"Stop listening": say how to turn it back on, then the microphone goes off."""
        reply = MUTED_REPLY.get(language, MUTED_REPLY["en"])
        await self.playback.awake_chime_done()
        await self._say_apology(reply)
        self.playback.finished(self.clock())
        timings.source = "mute"
        self.turns.record(TurnRequest(text, door="mic"), TurnResult(text, reply, timings))
        self.mute.mute("voice")

    async def _answer_out_loud(self, request: TurnRequest, pending: PendingTurn) -> None:
        timings = request.timings
        try:
            await self.playback.done_chime()
            async with contextlib.aclosing(self.turns.answer(request)) as answer:
                async for event in answer:
                    if isinstance(event, Pcm):
                        first = timings.first_reply_audio_ms is None
                        await self.playback.play(event)
                        if first:  # when the sink handed it to the device, not when it was made
                            sink = self.playback.sink
                            played_s = (sink.first_sound_s if sink is not None
                                        and sink.first_sound_s is not None else self.clock())
                            timings.first_reply_audio_ms = (
                                (played_s - pending.last_voiced_wall) * 1000)
            if self.playback.sink is not None:
                await self.playback.end_reply()
        except asyncio.CancelledError:
            await self.playback.abort()
            raise
        finally:
            self.playback.finished(self.clock())

    def _conversation(self, pending: PendingTurn) -> str:
        """The conversation a mic turn belongs to.

        A turn that starts inside the follow-up window of the previous reply
        continues that conversation (memory is in the prompt); any other starts
        a new one. Unrelated questions minutes apart carry no history, which
        also keeps the LLM prompt short (history costs ~250 ms of prefill per
        turn with SmolLM2 on 2 cores once the window slides).
        """
        if not self.room.in_followup(self._utterance(pending.utterance)):
            self._conversation_serial += 1
        return f"{self._conversation_base}-{self._conversation_serial}"

    # -- shutdown --------------------------------------------------------------------------------

    async def stop(self, grace_s: float) -> None:
        """Let the current turn finish within ``grace_s``, then cancel it; drop what waits."""
        await self.runner.stop(grace_s)
        for check in list(self._stop_checks):
            check.cancel()
        if self._arbitrating is not None:
            self._arbitrating.cancel()
        self.wake_check.close()
        if self._phrases_task is not None:
            self._phrases_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._phrases_task
        if self.bell is not None:
            await self.bell.close()
        await self.announcer.close()
        await self.playback.close()
        self.wake.close()


@dataclass(frozen=True)
class _UtteranceEnd:
    """What an early stop check waits for: its utterance's sound ending where the check's audio
    does (enough for a stop word), and the room deciding it is speech to check (for the rest)."""

    sound: asyncio.Event = field(default_factory=asyncio.Event)
    decided: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self, stop: bool) -> None:
        await (self.sound if stop else self.decided).wait()


@dataclass(frozen=True)
class _EarlyStopCheck:
    """A stop check begun at its utterance's silence (``_check_for_stop_early``)."""

    utterance: int
    task: asyncio.Task[None]
    end: _UtteranceEnd
    heard_until_s: float  # where the sound it checks ends (stream time)

    def covers(self, event: UtteranceEnded) -> bool:
        """``event`` ends this check's utterance where the check's audio does."""
        return (event.utterance == self.utterance
                and event.heard_end_s <= self.heard_until_s + EARLY_STOP_MORE_S)


def _after_wake_word(pcm: Pcm, audio_start_s: float, wake_s: float | None,
                     last_voiced_s: float) -> Pcm | None:
    """The audio after a wake word heard inside this utterance (at stream time ``wake_s``), or
    None: no wake word in it, or nothing worth transcribing after it."""
    if wake_s is None:
        return None
    if wake_s - FIRED_MARGIN_S <= audio_start_s or wake_s >= last_voiced_s - MIN_QUESTION_S:
        return None
    start_s = question_start_s(pcm, wake_s - audio_start_s)
    _LOGGER.debug("the question starts %.2f s into the utterance (the wake word model fired at "
                  "%.2f s)", start_s, wake_s - audio_start_s)
    return pcm.slice(start_s)


def _logprob(transcript: Transcript) -> str:
    return "n/a" if transcript.avg_logprob is None else f"{transcript.avg_logprob:.2f}"
