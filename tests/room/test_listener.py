"""The always-on loop with the real models: file source → VAD → turns → sink."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from satellite.audio import Pcm, read_wav, write_wav
from satellite.audio.sinks import WavDirSink
from satellite.audio.sources import AudioSource, WavFileSource
from satellite.config import Config
from satellite.daemon.capture import CaptureSupervisor
from satellite.engines import Engines
from satellite.engines.stt import Transcript
from satellite.engines.vad import create_vad
from satellite.engines.wake import WakeCandidate, create_wake_detector
from satellite.engines.whisper_decode import Hypothesis, PhraseOdds
from satellite.intents.mute_words import MUTED_REPLY
from satellite.pipeline import create_turn_service
from satellite.pipeline.failures import BROKEN
from satellite.pipeline.guard import claims_action
from satellite.pipeline.home import NOT_CONNECTED_ACTION, NOT_CONNECTED_QUERY
from satellite.pipeline.sentences import split_sentences
from satellite.room.listener import Listener, has_words
from satellite.runtime.state import RuntimeState
from satellite.timers import ring_pcm
from tests.conftest import make_config
from tests.hearing import heard_text, wer
from tests.loopback_room import LoopbackRoom, SpeakerInTheRoom, SpeakerThatGetsInterrupted
from tests.timeline import dev_clip, spoken, timeline

pytestmark = pytest.mark.slow
TIMEOUT_S = 120.0


def listener_for(config: Config, engines: Engines, sink: WavDirSink | None
                 ) -> tuple[Listener, RuntimeState]:
    turns = create_turn_service(config, engines)
    wake = create_wake_detector(config.wake)
    return Listener(config, turns, sink, create_vad(config.vad), wake), turns.state


async def listen(listener: Listener, state: RuntimeState, source: AudioSource) -> None:
    async with asyncio.timeout(TIMEOUT_S):
        await CaptureSupervisor(source, state, listener.on_audio).run()
        listener.end_of_input()
        await listener.wait_idle()


async def test_two_questions_two_turns_two_replies(tmp_path: Path, engines: Engines) -> None:
    questions = timeline(0.6, dev_clip("syn_01a.wav"), 2.0, dev_clip("syn_05a.wav"), 1.2)
    wav = questions.write(tmp_path / "two.wav")
    config = make_config(tmp_path)
    sink = WavDirSink(tmp_path / "replies")
    await sink.open()
    listener, state = listener_for(config, engines, sink)
    # As fast as it reads: the second question arrives before the first reply, never during
    # it (the capture is gated while the assistant speaks), however slow the machine.
    await listen(listener, state, WavFileSource(wav, realtime=False))

    turns = list(state.turns)
    assert len(turns) == 2
    assert [p.name for p in sink.written] == ["reply-0001.wav", "reply-0002.wav"]
    assert "kitchen" in turns[0].transcript.lower() and "bedroom" in turns[1].transcript.lower()
    for turn, (first, last) in zip(turns, questions.regions, strict=True):
        timings = turn.timings_ms
        assert first - 0.15 <= timings["utterance_start_s"] <= first + 0.15
        assert last - 0.30 <= timings["utterance_end_s"] <= last + 0.15
        assert timings["end_of_speech_ms"] == pytest.approx(config.vad.hangover_ms, abs=31)
        assert timings["first_reply_audio_ms"] > 0
        assert turn.door == "mic"


@pytest.mark.parametrize("vad", ["webrtc", "silero"])
async def test_noise_a_click_and_silence_make_no_turn(tmp_path: Path, engines: Engines,
                                                      vad: str) -> None:
    rng = np.random.default_rng(7)
    click = np.zeros(1600)
    click[:80] = 0.9
    cough = rng.normal(0, 0.4, 2400) * np.exp(-np.arange(2400) / 600)  # 150 ms, decaying burst
    noise = rng.normal(0, 0.03, 16000 * 2)
    parts = [Pcm.silence(1.0), Pcm.from_float32(click, 16000), Pcm.silence(1.0),
             Pcm.from_float32(cough, 16000), Pcm.silence(1.0), Pcm.from_float32(noise, 16000),
             Pcm.silence(1.0)]
    wav = timeline(*parts).write(tmp_path / "noise.wav")
    sink = WavDirSink(tmp_path / "replies")
    await sink.open()
    listener, state = listener_for(make_config(tmp_path, vad__engine=vad), engines, sink)
    await listen(listener, state, WavFileSource(wav, realtime=False))
    assert list(state.turns) == []
    assert sink.written == []


async def test_never_answers_its_own_voice(tmp_path: Path, engines: Engines) -> None:
    question = timeline(0.5, dev_clip("syn_01a.wav"), 0.5).pcm
    room = LoopbackRoom(question, tail_s=2.0)
    sink = SpeakerInTheRoom(tmp_path / "replies", room)
    await sink.open()
    listener, state = listener_for(make_config(tmp_path), engines, sink)
    await listen(listener, state, room)
    assert room.echoed_s > 1.0  # the reply really went back into the microphone
    assert len(state.turns) == 1
    assert len(sink.written) == 1


async def test_silero_segments_a_question(tmp_path: Path, engines: Engines) -> None:
    questions = timeline(0.6, dev_clip("syn_05a.wav"), 1.0)
    wav = questions.write(tmp_path / "one.wav")
    listener, state = listener_for(make_config(tmp_path, vad__engine="silero"), engines, None)
    await listen(listener, state, WavFileSource(wav, realtime=False))
    assert len(state.turns) == 1 and "bedroom" in state.turns[0].transcript.lower()
    first, last = questions.regions[0]
    assert first - 0.15 <= state.turns[0].timings_ms["utterance_start_s"] <= first + 0.15


LONG_QUESTION = "Okay Nabu, tell me a long story about the sea and the ships."


def barge_in_config(tmp_path: Path) -> Config:
    return make_config(tmp_path, audio__barge_in=True, audio__echo_cancel=True, audio__chimes=False,
                       wake__engine="micro",
                       wake__model="okay_nabu", wake__followup_s=0.0, llm__max_sentences=6,
                       llm__max_tokens=160)


async def test_the_replys_own_echo_does_not_interrupt_it(tmp_path: Path, engines: Engines) -> None:
    room = LoopbackRoom(timeline(0.5, spoken(engines, LONG_QUESTION), 0.5).pcm, tail_s=3.0)
    sink = SpeakerThatGetsInterrupted(tmp_path / "replies", room, None)
    await sink.open()
    listener, state = listener_for(barge_in_config(tmp_path), engines, sink)
    await listen(listener, state, room)
    assert room.echoed_s > 2.0  # the whole reply came back into the microphone
    assert listener.barge_ins == 0
    assert len(state.turns) == 1 and "sea" in state.turns[0].transcript.lower()
    assert len(sink.written) == 1
    played = read_wav(sink.written[0], convert=False)
    assert played.seconds == pytest.approx(room.echoed_s, abs=0.2)  # played to the end


# A long reply that is the same every run (counting is computed, not generated): the interruption
# lands on the same words of it each time. Over the model's story it fell on whatever the model
# said that run, and once in five runs the echo there hid "Okay Nabu" from the wake word model
# (0.79-0.84 where it needs 0.85, on the raw and on the cleaned audio alike).
COUNTING_QUESTION = "Count to thirty."
# Speech said once the canceller has measured the echo's delay comes 6-10 s into the reply
# (measured here): the count to thirty (~12 s) was nearly over by then
LONG_COUNTING_QUESTION = "Count to fifty."


def counting_room(engines: Engines, question: str = COUNTING_QUESTION) -> LoopbackRoom:
    """ "Okay Nabu." and, after a pause, the question: the question is then an utterance of its
    own. Said in one breath, a wake word model that fired a few hundred ms late (its thread behind
    on a loaded machine) cut "count to" off, and the box heard "30." (a fresh clone's run)."""
    return LoopbackRoom(timeline(0.5, spoken(engines, "Okay Nabu."), 1.0,
                                 spoken(engines, question), 0.5).pcm, tail_s=3.0)


async def counting_box(
        tmp_path: Path, engines: Engines, said: Pcm | None, after_s: float = 1.5,
        once_lag_known: bool = False
) -> tuple[LoopbackRoom, SpeakerThatGetsInterrupted, Listener, RuntimeState]:
    """The counting question's room, its speaker (``said`` over its reply, ``after_s`` into it,
    and not before the canceller has measured the echo's delay if ``once_lag_known``: then over
    the longer count) and a listener with barge-in, not yet listening (a test may change the
    listener first)."""
    room = counting_room(engines, LONG_COUNTING_QUESTION if once_lag_known else COUNTING_QUESTION)
    sink = SpeakerThatGetsInterrupted(tmp_path / "replies", room, said, after_s)
    await sink.open()
    listener, state = listener_for(barge_in_config(tmp_path), engines, sink)
    if once_lag_known:
        sink.ready = lambda: listener.echo.lag_s is not None
    return room, sink, listener, state


async def counted_and_interrupted(
        tmp_path: Path, engines: Engines, said: str, pause_s: float, after_s: float = 1.5,
        once_lag_known: bool = False
) -> tuple[LoopbackRoom, SpeakerThatGetsInterrupted, Listener, RuntimeState]:
    """The counting question through the room with barge-in, and ``said`` over its reply."""
    room, sink, listener, state = await counting_box(
        tmp_path, engines, timeline(spoken(engines, said), pause_s).pcm, after_s, once_lag_known)
    await listen(listener, state, room)
    return room, sink, listener, state


async def test_barge_in_stops_the_reply_and_answers_the_new_question(
        tmp_path: Path, engines: Engines) -> None:
    room, _, listener, state = await counted_and_interrupted(
        tmp_path, engines, "Okay Nabu, turn off the bedroom lamp.", 0.6)
    # The count was playing when the wake word came. Its turn is recorded only if the whole count
    # had been synthesized by then: a turn cancelled before that is not (a loaded fresh clone's
    # run: the count sounded 1.3 s, the bedroom lamp's turn was the only one recorded).
    assert room.echoed_s > 0.5
    assert all(t.reply.startswith("1, 2, 3, 4, 5") for t in list(state.turns)[:-1]), state.turns
    assert listener.barge_ins == 1
    last = state.turns[-1]
    assert "bedroom" in last.transcript.lower()  # the new question was answered
    # ... truthfully. Whisper hears it over the count's residual echo, and once (a loaded fresh
    # clone's run) heard "Turting off the bedroom lamp.", which no command matches: the language
    # model answered it, and may say anything but that the lamp was switched.
    if last.transcript.strip(" .").lower() == "turn off the bedroom lamp":
        assert last.reply == NOT_CONNECTED_ACTION
    else:
        assert not any(claims_action(s) for s in split_sentences(last.reply)), last
    assert all("bedroom" not in t.transcript.lower() for t in list(state.turns)[:-1])


async def test_a_wake_word_whisper_confirms_late_over_a_reply_stops_it_and_its_question_is_answered(
        tmp_path: Path, engines: Engines, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Over the box's voice a wake word the model scores under its cutoff there (0.6) waits for
    Whisper's reading, which a loaded box gives late (0.6-1.5 s in the room: the reply's model
    and voice share the CPU). By then "Okay Nabu." said over the reply has ended, and the reply
    played on over the question after it until that question ended. A wake word Whisper confirms
    over the voice stops it then, and the room waits for the question. Here every wake word is
    such a candidate, read 1.5 s late."""
    said = timeline(spoken(engines, "Okay Nabu."), 0.8, spoken(engines, "Turn off the bedroom lamp."),
                    0.6).pcm
    room, sink, listener, state = await counting_box(tmp_path, engines, said)
    detector, checker = listener.wake.detector, listener.wake_check
    assert detector is not None and checker.check is not None
    for cutoff in ("threshold", "threshold_over_voice"):  # every wake word is a candidate
        monkeypatch.setattr(detector._gate, cutoff, 1.01)
    read = checker._read
    late = []

    async def late_over_voice(check: object, candidate: WakeCandidate, pcm: Pcm) -> bool:
        over_voice = listener.room.sounding
        if over_voice:  # Whisper's yes, late (its real reading over the count's residual said
            await asyncio.sleep(1.5)  # no once in eight runs: the room's flow is tested here)
            woke = True
        else:
            woke = await read(check, candidate, pcm)  # type: ignore[arg-type]
        late.append((over_voice, woke))
        return woke

    monkeypatch.setattr(checker, "_read", late_over_voice)
    caplog.set_level(logging.INFO, "satellite.room.listener")
    await listen(listener, state, room)
    assert (True, True) in late, late  # the wake word over the reply came through the check, late
    # stopped when Whisper heard the wake word, not once the question after it had ended (the
    # question's barge-in). The room then waits for the question ("wake word alone"), or, when
    # the model placed the wake word after "Okay Nabu."'s end (1 run in 10), takes the next
    # utterance as the question with the wake word before it (what it is heard as: below).
    said_in_room = [r.getMessage() for r in caplog.records if r.getMessage().startswith("barge-in")]
    assert said_in_room == ["barge-in: the wake word over the box's voice, stopping it"], said_in_room
    assert listener.barge_ins == 1
    count = ", ".join(str(n) for n in range(1, 31)) + "."
    whole = sum(pcm.seconds for pcm in engines.tts.synthesize(count))
    assert room.echoed_s < whole - 3.0  # the count was cut off
    # (Not asserted: what the question was heard as. Said over the count's residual until the
    # reading came, it was "Turn off the bed and land."; and in one run in about eight the
    # count's own tail after the stop, "Bye.", took the question's place: docs/benchmarks.md.)


async def test_stop_over_a_reply_stops_it_without_the_wake_word(
        tmp_path: Path, engines: Engines, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "satellite.room.listener")
    # Said 4 s into the reply and once the canceller has measured the echo's delay: the count is
    # the canceller's first sound ever, and on a loaded machine AEC3 once took only 0.1-6.8 dB out
    # for its first ~10 s; Whisper, prompted with the stop words, then looped "Stop." forty times,
    # which is no stop (a fresh clone's run). The first seconds after a start are a known gap
    # (docs/benchmarks.md); this test is about a stop.
    room, sink, listener, state = await counted_and_interrupted(tmp_path, engines, "Stop.", 0.3,
                                                                after_s=4.0, once_lag_known=True)
    # Checked from the moment its silence began, not once the hangover had ended it - unless the
    # wake word model was behind then (a loaded machine), which the log says.
    checks = [r.getMessage() for r in caplog.records if r.getMessage().startswith("speech over")]
    assert any("(silence began)" in m or "model is" in m for m in checks), caplog.text
    # (the count's turn is recorded only if the whole count was synthesized before the stop)
    assert all(t.reply.startswith("1, 2, 3, 4, 5") for t in state.turns), state.turns
    count = ", ".join(str(n) for n in range(1, 51)) + "."
    whole = sum(pcm.seconds for pcm in engines.tts.synthesize(count))
    assert listener.stops == 1 and listener.barge_ins == 0
    assert len(state.turns) <= 1  # "stop" is no question: nothing answers it
    assert 0.5 < room.echoed_s < whole - 3.0  # the count sounded, and was cut off
    assert sink.written == []


async def test_a_stop_word_does_not_wait_for_whispers_reading_of_a_wake_word(
        tmp_path: Path, engines: Engines, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over a reply the wake word model makes candidates under its cutoff there, which Whisper
    reads ("Stop talking." scored 0.14 in the room, "Okay, stop." 0.48): the stop word stops the
    reply while that reading still runs (it held the stop back by the reading, ~0.6 s). Here a
    candidate comes as the person speaks and its reading takes 4 s."""
    room, sink, listener, state = await counting_box(
        tmp_path, engines, timeline(spoken(engines, "Stop."), 0.3).pcm)
    checker = listener.wake_check
    assert checker.check is not None

    read, candidates_window = checker.read, Pcm.silence(1.0)

    async def slow_read(pcm: Pcm, readings: Sequence[str]) -> PhraseOdds:
        if pcm is not candidates_window:  # ("Okay Nabu." before the question: the real reading)
            return await read(pcm, readings)
        await asyncio.sleep(4.0)
        return PhraseOdds(-25.0, "Okay, Nabu.", "Stop.")

    monkeypatch.setattr(checker, "read", slow_read)
    say = room.say

    def say_with_a_candidate(pcm: Pcm) -> None:
        say(pcm)
        now_s = listener.frontend.stream_s
        checker.candidate(WakeCandidate(now_s, now_s + 0.4, 0.2, now_s + 0.5), candidates_window)

    monkeypatch.setattr(room, "say", say_with_a_candidate)
    reading_at_stop = []
    stop_voice = listener._stop_voice

    def stop_voice_seen() -> bool:
        reading_at_stop.append(checker.busy)
        return stop_voice()

    monkeypatch.setattr(listener, "_stop_voice", stop_voice_seen)
    await listen(listener, state, room)
    assert listener.stops == 1 and listener.barge_ins == 0
    assert reading_at_stop == [True]  # stopped before Whisper's reading of the candidate ended


async def test_stop_and_more_words_after_a_pause_over_a_reply_do_not_stop_it(
        tmp_path: Path, engines: Engines, caplog: pytest.LogCaptureFixture) -> None:
    """The whole is no stop word: the check begun at the pause after "Stop" is dropped when
    the speech goes on, and the utterance is checked whole at its end."""
    caplog.set_level(logging.DEBUG, "satellite.room.listener")
    said = timeline(spoken(engines, "Stop."), 0.0, spoken(engines, "Worrying about the weather."),
                    0.3).pcm
    room, sink, listener, state = await counting_box(tmp_path, engines, said)
    await listen(listener, state, room)
    messages = [r.getMessage() for r in caplog.records]
    assert any("stop check is dropped" in m or "model is" in m for m in messages), caplog.text
    assert listener.stops == 0 and listener.barge_ins == 0, caplog.text
    assert len(sink.written) == 1  # the count played to its end


async def test_other_words_over_a_reply_do_not_stop_it(tmp_path: Path, engines: Engines) -> None:
    _, sink, listener, state = await counted_and_interrupted(
        tmp_path, engines, "What a lovely morning.", 0.3)
    assert state.turns[0].reply.startswith("1, 2, 3, 4, 5"), state.turns[0].transcript
    assert listener.stops == 0
    if listener.barge_ins:
        # Known, measured, left as it is: over the box's voice okay_nabu decides alone at 0.6,
        # and fired on this sentence once in a loaded fresh clone's run ("Okay, no problem."
        # over a reply: 4 of 8 renderings). Having Whisper read those cost more in the room than
        # it saved (docs/benchmarks.md: false barge-ins). Reported as such, not passed.
        pytest.xfail("the wake word model fired at its cutoff over the box's voice on other words "
                     "(docs/benchmarks.md: false barge-ins)")
    assert listener.barge_ins == 0
    assert listener.ignored >= 1  # heard, and left alone
    assert len(state.turns) == 1 and len(sink.written) == 1  # the count played to its end


# What Whisper made of the count's residual echo in a fresh clone's run (the canceller
# re-adapting just then): "Okay.", with "That's enough." among its other hypotheses at -0.62.
MADE_UP = Transcript("Okay.", "en", 1.0, avg_logprob=-0.45,
                     alternatives=(Hypothesis("That's enough.", -0.62),))


async def test_a_doubted_stop_word_in_the_boxs_own_voice_does_not_stop_it(
        tmp_path: Path, engines: Engines, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whisper's mistake is put in (it comes once in many runs); the echo, the canceller and
    what it took out of the count's voice are the room's."""
    room, sink, listener, state = await counting_box(tmp_path, engines, None)

    async def made_up(pcm: Pcm) -> Transcript:
        return MADE_UP

    monkeypatch.setattr(listener, "_hear_for_stop", made_up)

    async def over_the_count() -> None:
        while room.echoed_s < 4.0:
            await asyncio.sleep(0.05)
        now_s = listener.frontend.stream_s
        before = listener.ignored
        await listener._stop_if_asked(Pcm.silence(1.5), now_s - 1.5, now_s - 0.1, "test",
                                      "the reply")
        ignored.append(listener.ignored - before)

    # (the count's residual may also make speech the listener checks itself: Whisper's mistake
    # is put in there too, and is ignored the same way)
    ignored: list[int] = []
    checked = asyncio.create_task(over_the_count())
    await listen(listener, state, room)
    await asyncio.wait_for(checked, 1.0)
    assert listener.stops == 0 and ignored == [1]
    assert len(state.turns) == 1 and state.turns[0].reply.startswith("1, 2, 3, 4, 5")
    played = read_wav(sink.written[0], convert=False)
    assert played.seconds == pytest.approx(room.echoed_s, abs=0.2)  # the count played to its end


async def test_a_doubted_stop_word_said_over_a_reply_stops_it(
        tmp_path: Path, engines: Engines, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same doubt over a person's "Stop.": the canceller took little out of it, and read
    without the prompt it is a stop word still: a stop."""
    # Once the canceller has measured the echo's delay: before that (a loaded fresh clone, the
    # delay measured after 4 s), AEC3 took 13.6 dB out of the person's "Stop." too, and a doubted
    # stop word in speech it took 10 dB out of is the box's own voice (by design: the gap of the
    # first seconds, docs/benchmarks.md).
    room, sink, listener, state = await counting_box(
        tmp_path, engines, timeline(spoken(engines, "Stop."), 0.3).pcm, after_s=4.0,
        once_lag_known=True)

    async def made_up(pcm: Pcm) -> Transcript:
        return MADE_UP

    monkeypatch.setattr(listener, "_hear_for_stop", made_up)
    await listen(listener, state, room)
    assert listener.stops == 1 and listener.barge_ins == 0
    assert sink.said_at_s is not None and room.echoed_s < sink.said_at_s + 4.0  # (the count: ~12 s)


# What Whisper, prompted with the stop words, made of "What time is it?" said over a reply whose
# speaker hung (no echo at all; a fresh clone's run): the reply was stopped.
QUESTION_MADE_A_STOP = Transcript("This is it.", "en", 1.0, avg_logprob=-0.73,
                                  alternatives=(Hypothesis("That's enough.", -0.8),))


async def test_a_question_over_a_reply_that_the_prompt_made_a_stop_word_does_not_stop_it(
        tmp_path: Path, engines: Engines, monkeypatch: pytest.MonkeyPatch) -> None:
    """The prompted reading is put in (it came once in many runs); the person's question, the
    room and the reading without the prompt are real."""
    # (not "What time is it?" itself: over the count the wake word model fired on it in two
    # fresh clones' runs and here, the near miss below; the reading without the prompt was right)
    room, sink, listener, state = await counting_box(
        tmp_path, engines, timeline(spoken(engines, "What a lovely morning."), 0.3).pcm,
        after_s=4.0, once_lag_known=True)

    async def made_up(pcm: Pcm) -> Transcript:
        return QUESTION_MADE_A_STOP

    monkeypatch.setattr(listener, "_hear_for_stop", made_up)
    await listen(listener, state, room)
    assert listener.stops == 0  # the prompted reading's stop word is no stop
    if listener.barge_ins:
        # Known, measured, left as it is (test_other_words_over_a_reply_do_not_stop_it): over the
        # box's voice okay_nabu decides alone at 0.6, and may fire on other words over the count.
        pytest.xfail("the wake word model fired at its cutoff over the box's voice on other words "
                     "(docs/benchmarks.md: false barge-ins)")
    assert listener.ignored >= 1
    assert len(state.turns) == 1 and len(sink.written) == 1  # the count played to its end


async def test_wake_word_gates_turns(tmp_path: Path, engines: Engines) -> None:
    audio = timeline(0.5, spoken(engines, "Okay Nabu, turn on the kitchen lights."), 1.5,
                     spoken(engines, "Turn off the bedroom lamp."), 1.0)
    wav = audio.write(tmp_path / "wake.wav")
    config = make_config(tmp_path, wake__engine="micro", wake__model="okay_nabu",
                         wake__followup_s=0.0)
    sink = WavDirSink(tmp_path / "replies")
    await sink.open()
    listener, state = listener_for(config, engines, sink)
    await listen(listener, state, WavFileSource(wav, realtime=False))
    assert [t.transcript.lower().count("kitchen") for t in state.turns] == [1]
    assert listener.ignored == 1  # the bedroom lamp had no wake word
    if "light" in state.turns[0].transcript.lower():  # (Whisper base once heard "kitchen mites")
        assert state.turns[0].reply == NOT_CONNECTED_ACTION


async def test_follow_up_needs_no_wake_word(tmp_path: Path, engines: Engines) -> None:
    audio = timeline(0.5, spoken(engines, "Okay Nabu, turn on the kitchen lights."), 3.0,
                     spoken(engines, "Turn off the bedroom lamp."), 1.0)
    wav = audio.write(tmp_path / "wake.wav")
    config = make_config(tmp_path, wake__engine="micro", wake__followup_s=30.0)
    listener, state = listener_for(config, engines, None)
    await listen(listener, state, WavFileSource(wav, realtime=True))
    assert len(state.turns) == 2


async def test_phrase_mode_answers_only_when_named(tmp_path: Path, engines: Engines) -> None:
    audio = timeline(0.5, spoken(engines, "Computer, turn on the kitchen lights."), 1.5,
                     spoken(engines, "Turn off the bedroom lamp."), 1.0)
    wav = audio.write(tmp_path / "phrase.wav")
    config = make_config(tmp_path, wake__engine="phrase", wake__phrase="computer",
                         wake__followup_s=0.0)
    listener, state = listener_for(config, engines, None)
    await listen(listener, state, WavFileSource(wav, realtime=False))
    assert len(state.turns) == 1 and "kitchen" in state.turns[0].transcript.lower()
    assert state.turns[0].reply == NOT_CONNECTED_ACTION
    assert listener.ignored == 1


def test_has_words() -> None:
    assert has_words("Turn on the lights.")
    assert not has_words("")
    assert not has_words(" [BLANK_AUDIO] ")
    assert not has_words("(music) ...")


async def test_done_chime_is_played_before_the_reply(tmp_path: Path, engines: Engines) -> None:
    rate = engines.tts.voice.sample_rate_hz
    t = np.arange(int(0.2 * rate)) / rate
    chime = Pcm.from_float32(0.5 * np.sin(2 * np.pi * 880 * t), rate)
    chime_path = tmp_path / "done.wav"
    write_wav(chime_path, chime)
    wav = timeline(0.5, dev_clip("syn_05a.wav"), 1.0).write(tmp_path / "q.wav")
    sink = WavDirSink(tmp_path / "replies")
    await sink.open()
    config = make_config(tmp_path, audio__done_wav=str(chime_path))
    listener, state = listener_for(config, engines, sink)
    await listen(listener, state, WavFileSource(wav, realtime=False))
    assert len(sink.written) == 1
    reply = read_wav(sink.written[0], convert=False)
    assert reply.audio[:len(chime.audio)] == chime.audio
    assert reply.seconds > chime.seconds + 0.5  # and the spoken reply after it


@pytest.mark.parametrize(("said", "chimes"), [
    (["Okay Nabu, turn on the kitchen lights."], 0),  # the question goes on: nothing over it
    # a pause: the chime, in the pause (1.5 s: the wake word is decided once Whisper has checked
    # it, and on a loaded fresh clone 1.0 s was over before that and the chime with it)
    (["Okay Nabu.", 1.5, "Turn on the kitchen lights."], 1),
])
async def test_awake_chime_does_not_cut_the_question(tmp_path: Path, engines: Engines,
                                                     said: list[str | float], chimes: int) -> None:
    rate = engines.tts.voice.sample_rate_hz
    t = np.arange(int(0.15 * rate)) / rate
    chime_path = tmp_path / "awake.wav"
    write_wav(chime_path, Pcm.from_float32(0.5 * np.sin(2 * np.pi * 660 * t), rate))
    parts = [spoken(engines, part) if isinstance(part, str) else part for part in said]
    audio = timeline(0.5, *parts, 1.5)
    wav = audio.write(tmp_path / "wake.wav")
    config = make_config(tmp_path, wake__engine="micro", audio__awake_wav=str(chime_path))
    sink = WavDirSink(tmp_path / "replies")
    await sink.open()
    listener, state = listener_for(config, engines, sink)
    await listen(listener, state, WavFileSource(wav, realtime=True))
    assert len(state.turns) == 1 and "kitchen" in state.turns[0].transcript.lower()
    assert len(sink.written) == 1 + chimes  # (the chime), then the reply
    if chimes:
        assert read_wav(sink.written[0], convert=False).seconds == pytest.approx(0.15, abs=0.01)


@pytest.mark.parametrize(("followup_s", "conversations"), [(30.0, [1, 1]), (0.0, [1, 2])])
async def test_follow_up_continues_the_conversation_later_turns_start_afresh(
        tmp_path: Path, engines: Engines, followup_s: float, conversations: list[int]) -> None:
    wav = timeline(0.5, dev_clip("syn_01a.wav"), 1.0, dev_clip("syn_05a.wav"), 1.0).write(
        tmp_path / "two.wav")
    config = make_config(tmp_path, wake__followup_s=followup_s)
    listener, state = listener_for(config, engines, None)
    # The conversation each turn is given (whose history the model sees; these two questions are
    # commands answered on the box, so nothing of theirs goes into it: only the model's answers)
    given: list[str] = []
    conversation = listener._conversation
    listener._conversation = lambda pending: given.append(conversation(pending)) or given[-1]  # type: ignore[method-assign]
    await listen(listener, state, WavFileSource(wav, realtime=True))  # heard after the 1st reply
    assert len(state.turns) == 2
    assert given == [f"{listener._conversation_base}-{n}" for n in conversations]


class BrokenLlm:
    """A language model that fails on every question (a corrupt state, an out-of-memory)."""

    name = "broken"
    identity = "broken:1"
    context_tokens = 2048

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages: object, cancel: object = None, max_tokens: int | None = None):
        raise RuntimeError("the model fell over")
        yield ""  # pragma: no cover - a generator, like the real one


async def test_a_failed_turn_is_answered_out_loud_and_the_next_one_works(
        tmp_path: Path, engines: Engines) -> None:
    broken = Engines(engines.stt, BrokenLlm(), engines.tts)  # type: ignore[arg-type]
    audio = timeline(0.5, spoken(engines, "Tell me about the history of Rome."), 1.0,
                     spoken(engines, "Turn off the bedroom lamp."), 1.0)
    wav = audio.write(tmp_path / "two.wav")
    sink = WavDirSink(tmp_path / "replies")
    await sink.open()
    config = make_config(tmp_path)
    turns = create_turn_service(config, broken)
    listener = Listener(config, turns, sink, create_vad(config.vad))
    await listener.prepare()  # the apologies are rendered while the engines are free
    await listen(listener, turns.state, WavFileSource(wav, realtime=False))
    assert len(sink.written) == 2
    heard = [heard_text(engines, read_wav(path)) for path in sink.written]
    assert wer(BROKEN, heard[0]) <= 0.5, heard  # the LLM failed: the room is told so
    (answered,) = turns.state.turns  # and the next one is answered (truthfully: no HA here)
    assert "home assistant" in answered.reply.lower() and wer(answered.reply, heard[1]) <= 0.5, heard
    assert turns.state.metrics.errors.labels(kind="internal")._value.get() == 1


async def test_a_pause_after_the_wake_word_waits_for_the_question(
        tmp_path: Path, engines: Engines) -> None:
    """Seen: "Hey Jarvis … (0.4 s) … what time is it?" answered "Hey Jarvis." with the LLM."""
    audio = timeline(0.5, spoken(engines, "Okay Nabu."), 0.8, spoken(engines, "What time is it?"),
                     1.5)
    wav = audio.write(tmp_path / "pause.wav")
    config = make_config(tmp_path, wake__engine="micro", wake__model="okay_nabu",
                         wake__followup_s=0.0)
    listener, state = listener_for(config, engines, None)
    await listen(listener, state, WavFileSource(wav, realtime=True))
    (turn,) = state.turns
    assert "time" in turn.transcript.lower() and "nabu" not in turn.transcript.lower()
    assert turn.source == "local" and turn.reply.startswith("It's ")  # the clock, not the LLM


def wake_word_a_cough_and_the_question(tmp_path: Path, engines: Engines, gap_s: float
                                       ) -> tuple[Path, Listener, RuntimeState]:
    """"Okay Nabu.", 0.8 s, a 0.4 s cough-like burst, ``gap_s``, "What time is it?"; a listener
    with the wake word and no follow-up window."""
    rng = np.random.default_rng(11)
    cough = rng.normal(0, 0.3, 6400) * np.exp(-np.arange(6400) / 2400)  # 0.4 s, decaying
    audio = timeline(0.5, spoken(engines, "Okay Nabu."), 0.8, Pcm.from_float32(cough, 16000), gap_s,
                     spoken(engines, "What time is it?"), 1.5)
    wav = audio.write(tmp_path / "cough.wav")
    config = make_config(tmp_path, wake__engine="micro", wake__model="okay_nabu",
                         wake__followup_s=0.0)
    listener, state = listener_for(config, engines, None)
    return wav, listener, state


async def test_a_cough_after_the_wake_word_does_not_take_the_questions_place(
        tmp_path: Path, engines: Engines, caplog: pytest.LogCaptureFixture) -> None:
    """"Okay Nabu." … a cough … "What time is it?": the cough was taken for the question, Whisper
    heard nothing in it, and the question after it, without the wake word, was ignored."""
    caplog.set_level(logging.INFO, "satellite.room.listener")
    wav, listener, state = wake_word_a_cough_and_the_question(tmp_path, engines, 1.2)
    await listen(listener, state, WavFileSource(wav, realtime=True))
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("still waiting") for m in messages), messages  # the cough came first
    (turn,) = state.turns
    assert "time" in turn.transcript.lower(), messages
    assert turn.source == "local" and turn.reply.startswith("It's ")


async def test_a_question_heard_while_a_cough_is_transcribed_is_the_question(
        tmp_path: Path, engines: Engines, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """The same, the question right after the cough, and the cough's (empty) transcript slow to
    come (Whisper busy): the question ended while the cough's turn was still thinking, was
    checked for a stop word "over the turn" and ignored; it is the question."""
    caplog.set_level(logging.INFO, "satellite.room.listener")
    wav, listener, state = wake_word_a_cough_and_the_question(tmp_path, engines, 0.6)
    listener.speculative_stt = False  # each utterance ends on the hangover, transcribed then
    transcribe = listener.turns.transcribe

    async def slow_when_empty(pcm: Pcm, *args: Any, **kwargs: Any) -> Transcript:
        transcript = await transcribe(pcm, *args, **kwargs)
        if not has_words(transcript.text):
            await asyncio.sleep(2.5)
        return transcript

    monkeypatch.setattr(listener.turns, "transcribe", slow_when_empty)
    await listen(listener, state, WavFileSource(wav, realtime=True))
    messages = [r.getMessage() for r in caplog.records]
    assert any("over the turn" in m for m in messages), messages  # heard while the cough's turn ran
    assert any(m.startswith("the question came meanwhile") for m in messages), messages
    (turn,) = state.turns
    assert "time" in turn.transcript.lower(), messages
    assert turn.source == "local" and turn.reply.startswith("It's ")


async def test_the_wake_word_alone_and_silence_makes_no_turn(tmp_path: Path, engines: Engines
                                                            ) -> None:
    audio = timeline(0.5, spoken(engines, "Okay Nabu."), 7.0, spoken(engines, "What time is it?"),
                     1.0)
    wav = audio.write(tmp_path / "alone.wav")
    config = make_config(tmp_path, wake__engine="micro", wake__model="okay_nabu",
                         wake__followup_s=0.0, wake__question_wait_s=3.0)
    listener, state = listener_for(config, engines, None)
    await listen(listener, state, WavFileSource(wav, realtime=True))
    assert list(state.turns) == []  # the question came too late: it needed the wake word again
    assert listener.ignored == 1


async def test_a_wake_word_in_the_middle_of_a_sentence_starts_the_question(
        tmp_path: Path, engines: Engines) -> None:
    # Spliced as said in one breath: Piper's "okay Nabu" inside one long sentence reaches the
    # model's cutoff in ~2 of 3 syntheses; said on its own, in all (20 of 20).
    audio = timeline(0.5, spoken(engines, "So I said to her,"), 0.15, spoken(engines, "Okay Nabu,"), 0.1,
                     spoken(engines, "what time is it?"), 1.5)
    wav = audio.write(tmp_path / "middle.wav")
    config = make_config(tmp_path, wake__engine="micro", wake__model="okay_nabu")
    listener, state = listener_for(config, engines, None)
    await listen(listener, state, WavFileSource(wav, realtime=True))  # as a room: the wake model keeps up
    (turn,) = state.turns
    assert turn.transcript.lower().startswith("what time") and turn.reply.startswith("It's ")


async def test_a_timer_rings_in_the_room_until_stop_without_the_wake_word(
        tmp_path: Path, engines: Engines) -> None:
    audio = timeline(0.5, spoken(engines, "Okay Nabu, set a timer for two seconds."), 9.0,
                     spoken(engines, "Stop."), 6.0)
    wav = audio.write(tmp_path / "timer.wav")
    config = make_config(tmp_path, wake__engine="micro", wake__model="okay_nabu",
                         wake__followup_s=0.0, timers__max_ring_s=30.0, audio__chimes=False)
    sink = WavDirSink(tmp_path / "replies")
    await sink.open()
    listener, state = listener_for(config, engines, sink)
    await listener.prepare()
    await listen(listener, state, WavFileSource(wav, realtime=True))
    assert [t.source for t in state.turns] == ["timer", "timer"]  # set, then "stop"
    assert "timer" in state.turns[0].reply.lower() and state.turns[1].reply == ""
    ring = ring_pcm(engines.tts.voice.sample_rate_hz)
    played = [read_wav(p, convert=False) for p in sink.written]
    rings = [p for p in played if p.audio == ring.audio]
    assert 2 <= len(rings) <= 4  # it rang from ~4.5 s until "stop" at ~12 s, not for 30 s
    heard = [heard_text(engines, p) for p in played if p.audio != ring.audio]
    assert any(wer("Your timer is done.", text) <= 0.5 for text in heard), heard  # before the rings
    assert listener.turns.timers is not None and listener.turns.timers.ringing == []


async def test_stop_listening_turns_the_microphone_off_until_the_switch_turns_it_on(
        tmp_path: Path, engines: Engines) -> None:
    """Said to the box, "stop listening" is answered with how to turn it back on; then nothing
    reaches the VAD or the wake word (the second question is never heard) until the switch."""
    config = make_config(tmp_path, wake__engine="micro", wake__model="okay_nabu",
                         wake__followup_s=0.0, audio__chimes=False)
    said = timeline(0.5, spoken(engines, "Okay Nabu, stop listening."), 3.0,
                    spoken(engines, "Okay Nabu, what time is it?"), 1.5)
    sink = WavDirSink(tmp_path / "replies")
    await sink.open()
    listener, state = listener_for(config, engines, sink)
    await listener.prepare()
    capture = CaptureSupervisor(WavFileSource(said.write(tmp_path / "muted.wav"), realtime=True),
                                state, listener.on_audio)
    listener.mute.watch(capture.set_muted)
    async with asyncio.timeout(TIMEOUT_S):
        await capture.run()
        listener.end_of_input()
        await listener.wait_idle()
    assert [(t.source, t.reply) for t in state.turns] == [("mute", MUTED_REPLY["en"])]
    assert listener.mute.by == {"voice"} and state.room_phase == "muted"
    second_starts_s = said.regions[1][0]
    assert listener.frontend.stream_s < second_starts_s  # the VAD heard nothing more
    assert capture.dropped_s > said.pcm.seconds - second_starts_s
    assert heard_text(engines, read_wav(sink.written[0], convert=False)).startswith("Microphone off")

    listener.switch_mute(False)  # POST /unmute
    again = timeline(0.5, spoken(engines, "Okay Nabu, what time is it?"), 1.5)
    await listen(listener, state, WavFileSource(again.write(tmp_path / "on.wav"), realtime=True))
    assert len(state.turns) == 2 and "time" in state.turns[1].transcript.lower()


async def test_a_question_that_trails_off_is_not_cut_at_the_pause(tmp_path: Path, engines: Engines
                                                                  ) -> None:
    """"Turn on the kitchen lights and then … the hallway lamp": one question, heard in real time.

    "and then": tiny.en hears a lone trailing "and" as "in." or drops it now and then (Piper's
    voice varies per synthesis); "and then." it keeps every time.
    """
    wav = timeline(0.5, spoken(engines, "Turn on the kitchen lights and then"), 0.7,
                   spoken(engines, "the hallway lamp."), 2.0).write(tmp_path / "trailing.wav")
    heard: dict[bool, list[str]] = {}
    for adaptive in (True, False):
        config = make_config(tmp_path, vad__adaptive_endpoint=adaptive)
        listener, state = listener_for(config, engines, None)
        await listen(listener, state, WavFileSource(wav, realtime=True))
        heard[adaptive] = [turn.transcript.lower() for turn in state.turns]
    assert len(heard[True]) == 1, heard
    assert "kitchen" in heard[True][0] and "hallway" in heard[True][0]
    assert "hallway" not in heard[False][0], heard  # a fixed 300 ms hangover cuts it at the pause


async def test_a_finished_question_ends_on_its_transcript_not_the_hangover(
        tmp_path: Path, engines: Engines) -> None:
    wav = timeline(0.5, spoken(engines, "What time is it?"), 3.5).write(tmp_path / "q.wav")
    config = make_config(tmp_path, vad__hangover_ms=2500, vad__trailing_hangover_ms=2400)
    listener, state = listener_for(config, engines, None)
    await listen(listener, state, WavFileSource(wav, realtime=True))
    [turn] = state.turns
    assert turn.timings_ms["end"] == "complete"
    assert turn.timings_ms["end_of_speech_ms"] < 2400


async def test_a_room_without_home_assistant_has_its_refusals_ready_soon_after_start(
        tmp_path: Path, engines: Engines) -> None:
    sink = WavDirSink(tmp_path / "replies")
    await sink.open()
    listener, _ = listener_for(make_config(tmp_path), engines, sink)
    await listener.prepare()  # ready at once: the phrases are made behind it
    voice = engines.tts.identity()
    async with asyncio.timeout(TIMEOUT_S):
        while (voice, NOT_CONNECTED_QUERY) not in listener.turns.phrases:
            await asyncio.sleep(0.05)
    assert sink.written == []  # made, not played
    await listener.stop(1.0)


async def test_a_request_with_pauses_between_its_sentences_stays_one_turn(
        tmp_path: Path, engines: Engines) -> None:
    """"Set a timer. … For ten minutes." and a recited line: one turn each, heard in real time.
    "Set a timer." alone has no duration; "Roses are red." asks nothing: both wait for more."""
    config = make_config(tmp_path)
    recordings = {
        "timer": timeline(0.5, spoken(engines, "Set a timer."), 0.8, spoken(engines, "For ten minutes."), 2.0),
        "recited": timeline(0.5, spoken(engines, "Roses are red."), 0.7, spoken(engines, "Violets are blue."),
                            2.0),
    }
    heard = {}
    for name, recording in recordings.items():
        listener, state = listener_for(config, engines, None)
        await listen(listener, state, WavFileSource(recording.write(tmp_path / f"{name}.wav"), realtime=True))
        heard[name] = [turn.transcript.lower() for turn in state.turns]
    assert len(heard["timer"]) == 1 and "timer" in heard["timer"][0], heard
    assert "minutes" in heard["timer"][0], heard
    assert len(heard["recited"]) == 1 and "red" in heard["recited"][0] and "blue" in heard["recited"][0], heard


async def test_an_ordinary_request_still_ends_on_its_transcript(tmp_path: Path, engines: Engines) -> None:
    """Waiting for more is for sentences that ask nothing: a whole request ends at once."""
    wav = timeline(0.5, spoken(engines, "Turn off the bedroom lamp."), 3.0).write(tmp_path / "q.wav")
    config = make_config(tmp_path, vad__hangover_ms=2500, vad__trailing_hangover_ms=2400,
                         vad__sentence_hangover_ms=2300)
    listener, state = listener_for(config, engines, None)
    await listen(listener, state, WavFileSource(wav, realtime=True))
    [turn] = state.turns
    assert turn.timings_ms["end"] == "complete"
    assert turn.timings_ms["end_of_speech_ms"] < 2300


async def test_whisper_checks_the_wake_word_and_status_says_so(tmp_path: Path, engines: Engines
                                                                ) -> None:
    """A sentence that starts like the wake word makes no turn; the wake word after it does."""
    audio = timeline(0.5, spoken(engines, "Okay, no problem."), 1.5,
                     spoken(engines, "Okay Nabu, what time is it?"), 1.5)
    wav = audio.write(tmp_path / "near.wav")
    config = make_config(tmp_path, wake__engine="micro", wake__model="okay_nabu")
    listener, state = listener_for(config, engines, None)
    assert state.components["wake_check"].state == "ready"
    assert "Whisper checks scores from 0.1" in state.components["wake_check"].detail
    await listen(listener, state, WavFileSource(wav, realtime=False))
    assert len(state.turns) == 1 and "time" in state.turns[0].transcript.lower()
    assert state.turns[0].reply.startswith("It's ")
    assert state.metrics.wake_checks.labels(outcome="woke")._value.get() == 1
    off, off_state = listener_for(make_config(tmp_path, wake__engine="micro", wake__check='"off"'),
                                  engines, None)
    assert off_state.components["wake_check"].state == "off"
    assert off_state.components["wake_check"].detail == "wake.check is off"
    assert off.wake.detector is not None and off.wake.detector.candidate is None
