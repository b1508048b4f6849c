"""The room's state machine with plain events and times: no audio, no engine, no loop."""

from __future__ import annotations

import pytest

from satellite.room.machine import (
    ECHO_TAIL_S,
    Phase,
    RoomMachine,
    Utterance,
    Verdict,
    WakeAction,
)

FOLLOWUP_S = 5.0
QUESTION_WAIT_S = 6.0


def room(mode: str = "micro") -> RoomMachine:
    return RoomMachine(mode, FOLLOWUP_S, QUESTION_WAIT_S)


def said(start_s: float, end_s: float, offset: float = 0.0) -> Utterance:
    """An utterance spoken from ``start_s`` to ``end_s`` (stream time), decided 0.5 s later."""
    return Utterance(start_s, start_s - 0.3, end_s, end_s + 0.5, offset)


def test_a_wake_word_question_goes_through_every_phase() -> None:
    machine = room()
    machine.observe(1.0)
    assert machine.phase is Phase.LISTENING
    machine.observe(2.0, speech=True)
    assert machine.phase is Phase.HEARING
    assert machine.wake_word(2.6) is WakeAction.CHIME
    decision = machine.decide(said(2.0, 4.0))
    assert decision.verdict is Verdict.TURN and decision.woken and decision.wake_s == 2.6
    assert machine.wake_s is None  # one wake word, one turn
    machine.observe(4.5)
    machine.turn_began()
    assert machine.phase is Phase.THINKING
    machine.voice_began()
    assert machine.phase is Phase.SPEAKING
    machine.voice_ended(6.0)
    machine.open_followup(6.0)
    machine.turn_ended()
    assert machine.phase is Phase.FOLLOWING_UP
    machine.observe(6.0 + FOLLOWUP_S + 0.1)
    assert machine.phase is Phase.LISTENING


def test_without_the_wake_word_nothing_is_for_the_box_but_a_follow_up_is() -> None:
    machine = room()
    assert machine.decide(said(1.0, 2.0)).verdict is Verdict.IGNORED
    machine.open_followup(10.0)
    followup = machine.decide(said(11.0, 12.0))
    assert followup.verdict is Verdict.TURN and followup.woken and followup.wake_s is None
    # the follow-up window is after the reply, not during it: speech that began before is echo
    assert machine.decide(said(9.5, 10.5)).verdict is Verdict.IGNORED
    assert machine.decide(said(FOLLOWUP_S + 10.5, FOLLOWUP_S + 11.0)).verdict is Verdict.IGNORED


def test_wake_engine_none_hears_everyone_and_phrase_mode_leaves_it_to_the_transcript() -> None:
    decision = room("none").decide(said(1.0, 2.0))
    assert decision.verdict is Verdict.TURN and decision.woken
    decision = room("phrase").decide(said(1.0, 2.0))
    assert decision.verdict is Verdict.TURN and not decision.woken  # the name is checked later


def test_the_wake_word_alone_waits_for_the_question_and_times_out() -> None:
    machine = room()
    machine.wake_word(1.6)
    decision = machine.decide(said(1.0, 1.8))  # "Okay Nabu" and nothing after it
    assert decision.verdict is Verdict.QUESTION_NEXT
    until = machine.wake_word_alone(2.5)
    machine.observe(2.6)
    assert machine.phase is Phase.AWAKE
    question = machine.decide(said(4.0, 6.0))
    assert question.verdict is Verdict.TURN and question.woken
    assert not machine.question_timed_out(until)  # the question came: no "done" chime

    until = machine.wake_word_alone(20.0)
    machine.observe(20.0 + QUESTION_WAIT_S + 0.2)
    assert machine.question_timed_out(until)
    assert machine.phase is Phase.LISTENING
    assert machine.decide(said(27.0, 28.0)).verdict is Verdict.IGNORED


def test_a_sound_with_no_question_in_it_leaves_the_wake_words_window_open() -> None:
    """"Okay Nabu", a cough, the question: the cough took the window, and Whisper heard nothing in
    it; the window opens again, once, until its end, and the question is the box's."""
    machine = room()
    machine.wake_word(1.6)
    assert machine.decide(said(1.0, 1.8)).verdict is Verdict.QUESTION_NEXT
    until = machine.wake_word_alone(2.5)
    cough = said(3.0, 3.3)
    assert machine.decide(cough).verdict is Verdict.TURN  # taken for the question
    machine.turn_began()
    assert machine.question_not_asked(said(3.1, 3.3), 3.9) is None  # not the window's utterance
    assert machine.question_not_asked(cough, 4.0) == until
    machine.turn_ended()
    machine.observe(4.1)
    assert machine.phase is Phase.AWAKE
    question = machine.decide(said(4.5, 6.0))
    assert question.verdict is Verdict.TURN and question.woken
    assert machine.question_not_asked(cough, 6.5) is None  # once
    assert not machine.question_timed_out(until)  # the question came: no "done" chime


def test_a_window_with_nothing_in_it_still_ends_and_a_late_sound_does_not_reopen_it() -> None:
    machine = room()
    until = machine.wake_word_alone(2.5)
    cough = said(3.0, 3.3)
    assert machine.decide(cough).verdict is Verdict.TURN
    assert machine.question_not_asked(cough, 3.8) == until
    machine.observe(until + 0.2)
    assert machine.question_timed_out(until)  # nothing came: back to sleep, the "done" chime
    assert machine.phase is Phase.LISTENING
    until = machine.wake_word_alone(20.0)
    late = said(until - 0.5, until - 0.2)  # the window's last moment, its transcript after it
    assert machine.decide(late).verdict is Verdict.TURN
    assert machine.question_not_asked(late, until + 0.3) is None
    machine.observe(until + 0.4)
    assert machine.phase is Phase.LISTENING
    machine.wake_word_alone(40.0)
    cough = said(40.5, 40.8)
    assert machine.decide(cough).verdict is Verdict.TURN
    machine.mute_changed(True)  # muted: what it waited for is forgotten
    machine.mute_changed(False)
    assert machine.question_not_asked(cough, 41.0) is None
    assert machine.decide(said(41.5, 42.0)).verdict is Verdict.IGNORED


def test_the_box_does_not_hear_its_own_voice_and_its_echo_tail() -> None:
    machine = room()
    machine.observe(1.0)
    assert machine.capture_open(1.0)
    machine.turn_began()
    machine.voice_began()
    assert not machine.capture_open(1.5)
    machine.voice_ended(3.0)
    assert not machine.capture_open(3.0 + ECHO_TAIL_S / 2)
    assert machine.capture_open(3.0 + ECHO_TAIL_S + 0.01)
    machine.observe(3.5, hears_over_voice=True)  # barge-in with a working canceller
    machine.voice_began()
    assert machine.capture_open(3.6)


def test_home_assistants_run_closes_the_capture() -> None:
    machine = room()
    machine.observe(1.0, remote=True)
    assert machine.phase is Phase.HOME_ASSISTANT and not machine.capture_open(1.0)
    machine.observe(1.0, remote=True, hears_over_voice=True)
    assert not machine.capture_open(1.0)
    machine.observe(2.0)
    assert machine.capture_open(2.0)


def speaking_a_reply(machine: RoomMachine, *, hears: bool = True) -> None:
    machine.observe(10.0, hears_over_voice=hears)
    machine.turn_began()
    machine.voice_began()


def test_over_a_reply_only_the_wake_word_starts_a_turn() -> None:
    machine = room()
    speaking_a_reply(machine)
    stop = machine.decide(said(11.0, 11.6))
    assert stop.verdict is Verdict.STOP_CHECK and stop.over == "the reply"
    long = machine.decide(said(12.0, 15.0))  # a sentence over the reply: not a stop word
    assert long.verdict is Verdict.IGNORED and long.over == "the reply"
    assert machine.wake_word(16.5) is WakeAction.NOTHING  # no chime over the reply
    assert machine.barge_in_by_wake(17.0)
    question = machine.decide(said(16.0, 18.0))
    assert question.verdict is Verdict.TURN and question.replaces_reply and question.wake_s == 16.5


def test_without_a_canceller_the_wake_word_does_not_barge_in() -> None:
    machine = room()
    speaking_a_reply(machine, hears=False)
    machine.wake_word(11.0)
    assert not machine.barge_in_by_wake(11.5)
    assert machine.over_voice() == ""


def test_the_replys_echo_is_never_a_barge_in() -> None:
    machine = room()
    speaking_a_reply(machine)
    assert not machine.barge_in_by_wake(12.0)  # speech, but no wake word heard
    machine.wake_word(2.0)  # a wake word long before the reply's echo
    assert not machine.barge_in_by_wake(12.0)


def test_a_stop_while_it_thinks_is_checked_other_speech_is_not_for_it() -> None:
    machine = room()
    machine.observe(10.0)
    machine.turn_began()
    stop = machine.decide(said(10.5, 11.0))
    assert stop.verdict is Verdict.STOP_CHECK and stop.over == "the turn"
    assert machine.decide(said(12.0, 15.0)).verdict is Verdict.IGNORED
    machine.wake_word(16.2)
    queued = machine.decide(said(16.0, 18.0))  # a new question waits for the turn
    assert queued.verdict is Verdict.TURN and not queued.replaces_reply


def test_over_an_announcement_a_stop_word_is_checked() -> None:
    machine = room()
    machine.observe(10.0, hears_over_voice=True)
    machine.voice_began()  # Home Assistant's announcement: no turn of the box's
    decision = machine.decide(said(10.5, 11.0))
    assert decision.verdict is Verdict.STOP_CHECK and decision.over == "the announcement"
    assert machine.barge_in_by_wake(11.0) is False
    machine.wake_word(11.5)
    assert machine.barge_in_by_wake(12.0)


def test_a_ring_hears_stop_without_the_wake_word() -> None:
    machine = room()
    machine.observe(10.0, ringing=True)
    assert machine.phase is Phase.RINGING
    decision = machine.decide(said(10.5, 11.0))
    assert decision.verdict is Verdict.TURN and decision.ring_only and decision.woken


def test_a_ring_in_a_followups_window_hears_only_stop_and_timer_commands() -> None:
    machine = room()
    machine.open_followup(10.0)
    machine.observe(11.0, ringing=True)
    decision = machine.decide(said(11.5, 12.0))
    assert decision.verdict is Verdict.TURN and decision.ring_only
    machine.wake_word(12.8)
    decision = machine.decide(said(12.5, 14.0))
    assert decision.verdict is Verdict.TURN and not decision.ring_only and decision.wake_s == 12.8


def test_the_timers_own_announcement_is_left_to_the_rings_rules() -> None:
    machine = room()
    machine.observe(10.0, ringing=True, hears_over_voice=True)
    machine.voice_began()  # "Your pasta timer is done." before the ring
    decision = machine.decide(said(10.5, 11.0))
    assert decision.verdict is Verdict.TURN and decision.ring_only


def test_a_wake_word_during_a_ring_is_a_question_not_home_assistants() -> None:
    machine = room()
    machine.observe(10.0, ringing=True)
    assert machine.wake_word(10.8, can_stream=True) is WakeAction.CHIME  # "stop" is the box's
    decision = machine.decide(said(10.5, 12.5))
    assert decision.verdict is Verdict.TURN and not decision.ring_only and decision.wake_s == 10.8


def test_a_timer_ending_during_a_reply_rings_after_it() -> None:
    machine = room()
    speaking_a_reply(machine)
    machine.observe(11.0, ringing=True, hears_over_voice=True)
    assert machine.phase is Phase.SPEAKING  # the reply first; the bell holds its ring
    assert machine.decide(said(11.2, 11.6)).over == "the reply"  # a stop stops the reply
    machine.voice_ended(12.0)
    machine.turn_ended()
    assert machine.phase is Phase.RINGING


def test_in_satellite_mode_the_wake_word_streams_to_home_assistant_when_idle() -> None:
    machine = room()
    assert machine.wake_word(1.0, can_stream=True) is WakeAction.STREAM
    machine.turn_began()
    assert machine.wake_word(3.0, can_stream=True) is WakeAction.NOTHING


@pytest.mark.parametrize("mode", ["micro", "openwakeword"])
def test_speculation_is_for_speech_near_a_wake_word_or_a_follow_up(mode: str) -> None:
    machine = room(mode)
    assert not machine.speculation_worthwhile(5.0, 5.0)
    machine.wake_word(3.0)
    assert machine.speculation_worthwhile(5.0, 5.0)
    machine.consume_wake()
    machine.open_followup(100.0)
    assert machine.speculation_worthwhile(200.0, 101.0)
    assert room("none").speculation_worthwhile(5.0, 5.0)


def test_a_wake_word_inside_the_utterance_is_found_and_one_long_before_is_not() -> None:
    machine = room()
    machine.wake_word(3.0)
    assert machine.heard_in(said(2.5, 6.0))
    assert not machine.heard_in(said(20.0, 22.0))


def test_every_phase_change_is_told() -> None:
    machine = room()
    seen: list[Phase] = []
    machine.on_phase = seen.append
    machine.observe(1.0, speech=True)
    machine.observe(1.1, speech=True)  # no change, not told again
    machine.observe(1.2)  # the question ended
    machine.turn_began()
    machine.voice_began()
    machine.voice_ended(3.0)
    machine.turn_ended()
    assert seen == [Phase.HEARING, Phase.LISTENING, Phase.THINKING, Phase.SPEAKING, Phase.THINKING,
                    Phase.LISTENING]


def test_muted_the_room_hears_nothing_and_forgets_what_it_was_waiting_for() -> None:
    machine = room()
    machine.wake_word_alone(1.0)
    machine.open_followup(1.0)
    machine.mute_changed(True)
    machine.observe(1.5, speech=True, ringing=True)
    assert machine.phase is Phase.MUTED and not machine.capture_open(1.5)
    assert machine.wake_word(1.6) is WakeAction.NOTHING and machine.wake_s is None
    machine.mute_changed(False)
    machine.observe(2.0)
    assert machine.phase is Phase.LISTENING
    assert machine.capture_open(2.0)
    assert machine.decide(said(2.0, 3.0)).verdict is Verdict.IGNORED  # no window survived


def test_a_wake_word_another_box_takes_ends_this_rooms_follow_up() -> None:
    """Two rooms: this one answered, its follow-up is open; the person says the wake word again
    and another box hears it better. The question is that box's, not a follow-up here."""
    machine = room()
    machine.open_followup(10.0)
    assert machine.phase is Phase.FOLLOWING_UP
    machine.another_box_answers()  # the wake word at 11.2 s went to another box
    assert machine.phase is Phase.LISTENING
    assert machine.decide(said(11.0, 13.0)).verdict is Verdict.IGNORED
    # the next wake word heard here is this room's again
    machine.wake_word(20.6)
    assert machine.decide(said(20.0, 22.0)).verdict is Verdict.TURN


def test_the_question_a_wake_word_announced_while_it_thought_is_one_over_the_reply() -> None:
    """"Okay Nabu" alone while a turn thinks, then the question after it, by when the reply has
    begun: the question replaces the reply (it was ignored as speech over the reply)."""
    machine = room()
    machine.observe(10.0)
    machine.turn_began()
    assert machine.wake_word(10.8) is WakeAction.NOTHING  # (no chime: the box is busy)
    alone = machine.decide(said(10.2, 10.8))
    assert alone.verdict is Verdict.QUESTION_NEXT
    machine.wake_word_alone(11.3)
    machine.voice_began()
    machine.observe(11.4, hears_over_voice=True)
    question = machine.decide(said(11.5, 13.0, offset=0.0))
    assert question.verdict is Verdict.TURN and question.replaces_reply
