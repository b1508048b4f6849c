"""The room's state as one sans-IO state machine: plain events and times in, the phase and decisions out.

Every fact turn-taking decides on lives here, and nowhere else: whether a turn
runs, whether the box's voice sounds (and the echo's short tail after it),
whether a timer rings, whether Home Assistant's pipeline has the question,
when the wake word was last heard, and the windows in which no wake word is
needed (after the wake word said alone, after a reply). The listener
(``listener.py``) is its I/O shell: it feeds the events (audio facts each chunk,
the wake word, turns and sounds beginning and ending) and does what the
decisions say; the machine never touches a task, a device or a clock.

Times: ``now`` is the wall clock (monotonic seconds). An utterance's times and
the wake word's are stream times (seconds of audio heard); ``wall_offset``
converts them.

The phases, in the order they win when several facts hold:

- ``muted``: the privacy mute (``mute.py``): the microphone is off; nothing is
  heard and nothing starts until it is on again.
- ``home assistant``: HA's pipeline has the question (satellite mode); the room
  starts nothing of its own and its capture is closed.
- ``speaking``: a reply, an apology or an announcement sounds. The capture is
  closed (and for ``ECHO_TAIL_S`` after) unless the room hears over the box's
  voice (barge-in with a working echo canceller); then the wake word stops it
  and starts the next turn, a short utterance is checked for a stop word, and
  anything else is ignored.
- ``thinking``: a turn runs and nothing sounds yet; a stop word (without the
  wake word) cancels it.
- ``ringing``: a timer rings (between its rings too); what is said without the
  wake word is heard for "stop" only.
- ``hearing``: speech is in progress.
- ``awake``: the wake word was said alone; the next utterance within
  ``wake.question_wait_s`` is the question.
- ``following up``: a reply ended less than ``wake.followup_s`` ago; the next
  utterance needs no wake word.
- ``listening``: for the wake word (or for anyone, with ``wake.engine: none``).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

_LOGGER = logging.getLogger(__name__)

ECHO_TAIL_S = 0.3  # the capture stays closed this long after the box's voice (device and room latency)
WAKE_WINDOW_S = 5.0  # an utterance starting this long after the wake word still counts
BARGE_IN_WAKE_S = 3.0  # the wake word must have been heard this recently to stop a reply
MIN_QUESTION_S = 0.3  # less audio than this after the wake word is no question
STOP_MAX_S = 2.0  # speech over the box's voice longer than this is no stop word (and is not transcribed)
QUESTION_EARLY_S = 1.0  # the question may have begun while the wake word alone was being decided
SPECULATION_WAKE_S = 30.0  # speech this long after a wake word is transcribed ahead all the same
MODEL_MODES = ("micro", "openwakeword")


class Phase(enum.Enum):
    MUTED = "muted"
    LISTENING = "listening"
    HEARING = "hearing"
    AWAKE = "awake"
    FOLLOWING_UP = "following up"
    RINGING = "ringing"
    THINKING = "thinking"
    SPEAKING = "speaking"
    HOME_ASSISTANT = "home assistant"


class Verdict(enum.Enum):
    TURN = "turn"  # a question: transcribe it and answer
    QUESTION_NEXT = "question next"  # the wake word alone: the question follows
    STOP_CHECK = "stop check"  # over the box's voice or a turn: only a stop word does anything
    IGNORED = "ignored"  # not for the box


class WakeAction(enum.Enum):
    STREAM = "stream"  # satellite mode: Home Assistant's pipeline hears the question from here
    CHIME = "chime"  # the awake chime; the question is recorded by the room
    NOTHING = "nothing"  # the room is busy (a turn, the box's voice): the wake word is kept for barge-in


@dataclass(frozen=True)
class Utterance:
    """What the machine needs of an utterance (``segmenter.UtteranceEnded``), in stream time."""

    start_s: float  # the first voiced frame
    audio_start_s: float  # the first sample kept (with the pre-roll)
    last_voiced_s: float
    decided_s: float  # when the segmenter decided it had ended
    wall_offset: float  # wall clock minus stream time

    @property
    def spoken_s(self) -> float:
        return self.last_voiced_s - self.start_s

    @property
    def start_wall(self) -> float:
        return self.start_s + self.wall_offset


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    woken: bool = False  # addressed by the wake word or a window: not to be checked again
    wake_s: float | None = None  # stream time the wake word was heard in it
    ring_only: bool = False  # heard over a ring without the wake word: only a timer command
    replaces_reply: bool = False  # the question stops the reply being spoken
    over: str = ""  # what it was said over, for a stop check: "the reply", "the announcement", ...


class RoomMachine:
    def __init__(self, wake_mode: str, followup_s: float, question_wait_s: float):
        self.wake_mode = wake_mode
        self.followup_s = followup_s
        self.question_wait_s = question_wait_s
        # pushed by the shell as they happen
        self.muted = False  # the privacy mute: the microphone is off
        self.turn = False  # a turn runs (the turn runner's)
        self.sounding = False  # the box's voice plays (a reply, an apology, an announcement)
        self.gate_until = 0.0  # wall clock: the echo's tail after the box's voice
        self.wake_s: float | None = None  # stream time of the last wake word not yet used
        self.followup_from = 0.0
        self.followup_until = 0.0
        self.question_from = 0.0
        self.question_until = 0.0
        # the utterance the window took for its question (stream time it began) and the window's end
        self._question_taken: tuple[float, float] | None = None
        # observed on every chunk (``observe``)
        self.now = 0.0
        self.speech = False
        self.ringing = False
        self.remote = False
        self.hears_over_voice = False
        self._phase = Phase.LISTENING
        self.on_phase: Callable[[Phase], None] = lambda phase: None  # told of every change

    def configure(self, wake_mode: str, followup_s: float, question_wait_s: float) -> None:
        self.wake_mode, self.followup_s, self.question_wait_s = wake_mode, followup_s, question_wait_s

    # -- the phase -------------------------------------------------------------------------------

    @property
    def phase(self) -> Phase:
        return self._phase

    def _update(self) -> None:
        phase = self._current_phase()
        if phase is not self._phase:
            _LOGGER.debug("room: %s -> %s", self._phase.value, phase.value)
            self._phase = phase
            self.on_phase(phase)

    def _current_phase(self) -> Phase:
        if self.muted:
            return Phase.MUTED
        if self.remote:
            return Phase.HOME_ASSISTANT
        if self.sounding:
            return Phase.SPEAKING
        if self.turn:
            return Phase.THINKING
        if self.ringing:
            return Phase.RINGING
        if self.speech:
            return Phase.HEARING
        if self.question_from <= self.now <= self.question_until:
            return Phase.AWAKE
        if self.followup_from <= self.now <= self.followup_until:
            return Phase.FOLLOWING_UP
        return Phase.LISTENING

    # -- events ----------------------------------------------------------------------------------

    def observe(self, now: float, *, speech: bool = False, ringing: bool = False,
                remote: bool = False, hears_over_voice: bool = False) -> None:
        """The facts other parts own, as of an audio chunk: speech in progress (the VAD), a timer
        ringing (the timers), HA's pipeline under way (the link), and whether the room is heard
        over the box's voice (barge-in on and the echo canceller working)."""
        self.now = now
        self.speech, self.ringing, self.remote = speech, ringing, remote
        self.hears_over_voice = hears_over_voice
        self._update()

    def mute_changed(self, muted: bool) -> None:
        """The microphone went off (everything heard so far is forgotten) or on again."""
        self.muted = muted
        if muted:
            self.wake_s = None
            self.speech = False
            self.question_until = 0.0
            self._question_taken = None
            self.followup_until = 0.0
        self._update()

    def turn_began(self) -> None:
        self.turn = True
        self._update()

    def turn_ended(self) -> None:
        self.turn = False
        self._update()

    def voice_began(self) -> None:
        self.sounding = True
        self._update()

    def voice_ended(self, now: float) -> None:
        """The box's voice stopped: the capture stays closed a moment for the room's echo."""
        self.sounding = False
        self.gate_until = now + ECHO_TAIL_S
        self.now = max(self.now, now)
        self._update()

    def open_followup(self, now: float) -> None:
        """A turn's answer is over: the follow-up window opens (no wake word for a moment)."""
        self.followup_from = now
        self.followup_until = now + self.followup_s
        self.now = max(self.now, now)
        self._update()

    def another_box_answers(self) -> None:
        """Another box of the home took this wake word: the person now talks to it, so this
        room's follow-up (and a wait for a question) is over; what follows needs the wake word."""
        self.followup_until = 0.0
        self.question_until = 0.0
        self._question_taken = None
        self._update()

    def wake_word(self, stream_s: float, *, can_stream: bool = False) -> WakeAction:
        """The wake word model fired at ``stream_s``. ``can_stream``: Home Assistant runs the
        satellite and would hear the question live."""
        if self.muted:
            return WakeAction.NOTHING  # (the model's last chunks before the microphone went off)
        self.wake_s = stream_s
        if can_stream and not (self.turn or self.sounding or self.ringing):
            return WakeAction.STREAM  # (over a ring "stop" is the box's)
        if self.turn or self.sounding:
            return WakeAction.NOTHING
        return WakeAction.CHIME

    def consume_wake(self) -> float | None:
        """One wake word, one turn: the stream time it was heard at, if a model heard it."""
        heard, self.wake_s = self.wake_s, None
        return heard if self.wake_mode in MODEL_MODES else None

    def wake_word_alone(self, now: float, said: float | None = None) -> float:
        """The wake word was said alone (its utterance ending at ``said``): the next utterance
        within ``question_wait_s`` is the question, also one begun since ``said`` (the wake word
        was decided late: Whisper checked it). Returns the window's end (``question_timed_out``
        takes it back)."""
        self.question_from = min(now - QUESTION_EARLY_S, now if said is None else said)
        self.question_until = now + self.question_wait_s
        self._question_taken = None
        self.now = max(self.now, now)
        self._update()
        return self.question_until

    def question_not_asked(self, utterance: Utterance, now: float) -> float | None:
        """The utterance the wake word's window took for its question had none in it (a cough, a
        click, the reply's tail heard as nothing, words Whisper doubts): the window is open again
        until its end, for the question still to come. Returns that end; None when the utterance
        was not the window's or the window is over."""
        taken = self._question_taken
        if taken is None or taken[0] != utterance.start_s:
            return None
        self._question_taken = None
        if now >= taken[1]:
            return None
        self.question_until = taken[1]
        self.now = max(self.now, now)
        self._update()
        return taken[1]

    def question_timed_out(self, until: float) -> bool:
        """True (and the room goes back to sleep) if the window ending at ``until`` is still
        open and nothing came of it."""
        if self.question_until != until or self.turn:
            return False
        self.question_until = 0.0
        self._update()
        return True

    # -- decisions -------------------------------------------------------------------------------

    def capture_open(self, now: float) -> bool:
        """Whether the room's own turn-taking hears the microphone (VAD and wake word)."""
        if self.remote or self.muted:
            return False
        voice = self.sounding or now < self.gate_until
        return not voice or self.hears_over_voice

    def in_followup(self, utterance: Utterance) -> bool:
        """Started inside the window after a reply (not during it: that is the reply's echo)."""
        return self.followup_from <= utterance.start_wall <= self.followup_until

    def heard_in(self, utterance: Utterance) -> bool:
        """Whether the wake word model fired inside (or just before) this utterance."""
        return self.wake_mode in MODEL_MODES and self.wake_s is not None and (
            utterance.audio_start_s - WAKE_WINDOW_S <= self.wake_s <= utterance.decided_s + 0.1)

    def woken_since(self, stream_s: float) -> bool:
        return self.wake_s is not None and self.wake_s >= stream_s

    def speculation_worthwhile(self, last_voiced_s: float, now: float) -> bool:
        """Transcribe ahead only speech that may become a turn."""
        if self.wake_mode not in MODEL_MODES or now < self.followup_until:
            return True
        return self.woken_since(last_voiced_s - SPECULATION_WAKE_S)

    def barge_in_by_wake(self, stream_now: float) -> bool:
        """The wake word was heard over the box's voice (in the last ``BARGE_IN_WAKE_S``): stop
        the voice."""
        return (self.hears_over_voice and self.sounding and not self.remote
                and self.woken_since(stream_now - BARGE_IN_WAKE_S))

    def over_voice(self) -> str:
        """What speech without the wake word would be said over and may stop ("" for nothing):
        the box's voice while the room hears over it (a timer's own announcement is left to the
        ring's rules), or a turn still thinking."""
        if self.sounding and self.hears_over_voice and (self.turn or not self.ringing):
            return "the reply" if self.turn else "the announcement"
        return ""

    def unaddressed_over_voice(self, utterance: Utterance) -> str:
        """What the box's voice this utterance, ended or not, is said over without the wake word
        ("" for none, or with it): only a stop word in it does anything. Changes nothing."""
        # (the question a wake word said alone announced is one, though a reply began since:
        # "Okay Nabu" said while it thought, the question after it over the reply)
        announced = self.question_from <= utterance.start_wall <= self.question_until
        over = self.over_voice()
        return over if over and not (self.heard_in(utterance) or announced) else ""

    def decide(self, utterance: Utterance) -> Decision:
        """What an utterance that has ended is: a turn, the wake word alone, a possible stop word,
        or nothing for the box."""
        over = self.unaddressed_over_voice(utterance)  # (before the question's window is spent)
        addressed = self._addressed(utterance)
        # A follow-up's window does not carry over a ring: what is heard over the box's tones
        # without the wake word is a stop or a timer command only (the ring's residual after a
        # reply was once heard as "Sure." and answered).
        followup_only = (addressed is True and self.wake_mode in MODEL_MODES
                         and self.in_followup(utterance) and not self.heard_in(utterance))
        ring_only = self.ringing and (addressed is False or followup_only)
        if ring_only:
            addressed = True  # "stop" needs no wake word while a timer rings
        if over:  # over the box's voice only the wake word starts a turn
            short = utterance.spoken_s <= STOP_MAX_S
            return Decision(Verdict.STOP_CHECK if short else Verdict.IGNORED, over=over)
        if addressed is False:
            if self.turn and not self.sounding and utterance.spoken_s <= STOP_MAX_S:
                return Decision(Verdict.STOP_CHECK, over="the turn")  # "stop" while it thinks
            return Decision(Verdict.IGNORED)
        wake_s = self.consume_wake() if addressed else None
        if wake_s is not None and wake_s >= utterance.last_voiced_s - MIN_QUESTION_S:
            return Decision(Verdict.QUESTION_NEXT, wake_s=wake_s)  # people pause after it
        return Decision(Verdict.TURN, woken=addressed is True, wake_s=wake_s, ring_only=ring_only,
                        replaces_reply=self.turn and self.sounding and self.hears_over_voice)

    def _addressed(self, utterance: Utterance) -> bool | None:
        """True: for the box. False: not. None: the transcript decides (phrase mode)."""
        if self.wake_mode == "none" or self.in_followup(utterance):
            return True
        if self.question_from <= utterance.start_wall <= self.question_until:
            # this is the question the wake word announced (unless it has none: question_not_asked)
            self._question_taken = (utterance.start_s, self.question_until)
            self.question_until = 0.0
            self._update()
            return True
        if self.wake_mode == "phrase":
            return None
        return self.heard_in(utterance)
