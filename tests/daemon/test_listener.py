"""The always-on loop with the real models: file source → VAD → turns → sink."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from satellite.audio import Pcm, read_wav, to_stt_format, write_wav
from satellite.audio.sinks import WavDirSink
from satellite.audio.sources import AudioSource, WavFileSource
from satellite.config import Config
from satellite.daemon.capture import CaptureSupervisor
from satellite.daemon.listener import Listener, has_words
from satellite.engines import Engines
from satellite.engines.vad import create_vad
from satellite.engines.wake import create_wake_detector
from satellite.intents import intent_answer_for
from satellite.pipeline import create_pipeline
from satellite.runtime.state import RuntimeState
from tests.conftest import make_config
from tests.daemon.conftest import dev_clip, spoken, timeline

pytestmark = pytest.mark.slow
TIMEOUT_S = 120.0


def listener_for(config: Config, engines: Engines, sink: WavDirSink | None
                 ) -> tuple[Listener, RuntimeState]:
    state = RuntimeState()
    pipeline = create_pipeline(config, engines, intent_answer_for(config))
    wake = create_wake_detector(config.wake)
    return Listener(config, pipeline, state, sink, create_vad(config.vad), wake), state


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
    await listen(listener, state, WavFileSource(wav, realtime=True))

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


class LoopbackRoom(AudioSource):
    """A room where the microphone hears the question, then everything the speaker plays.

    It closes (end of input) ``tail_s`` after the last sound, and not before the speaker has
    played something (however slow the reply is to come).
    """

    def __init__(self, question: Pcm, tail_s: float):
        self._heard_anything = False
        self.name = "loopback"
        self._chunks = [question.audio[i:i + 2048] for i in range(0, len(question.audio), 2048)]
        self._echo = b""
        self.echoed_s = 0.0
        self._tail_chunks = int(tail_s / 0.064)
        self._tail = self._tail_chunks
        self._t0: float | None = None
        self._sent = 0

    def hear(self, pcm: Pcm) -> None:
        self._heard_anything = True
        self._echo += to_stt_format(pcm).audio

    async def read(self) -> Pcm | None:
        loop = asyncio.get_running_loop()
        self._t0 = loop.time() if self._t0 is None else self._t0
        delay = self._t0 + self._sent * 0.064 - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        self._sent += 1
        if self._chunks:
            return Pcm(self._chunks.pop(0), 16000)
        if self._echo:
            chunk, self._echo = self._echo[:2048], self._echo[2048:]
            self.echoed_s += len(chunk) / 32000
            self._tail = self._tail_chunks  # the room stays open until the sound has died down
            return Pcm(chunk.ljust(2048, b"\0"), 16000)
        if self._tail <= 0:
            return None
        if self._heard_anything:
            self._tail -= 1
        return Pcm(bytes(2048), 16000)


class SpeakerInTheRoom(WavDirSink):
    def __init__(self, directory: Path, room: LoopbackRoom):
        super().__init__(directory, realtime=True)
        self.room = room

    async def play(self, pcm: Pcm) -> None:
        await super().play(pcm)
        self.room.hear(pcm)


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


class SpeakerThatGetsInterrupted(WavDirSink):
    """Plays in real time; the user starts talking (``interruption``) as soon as it does."""

    def __init__(self, directory: Path, room: LoopbackRoom, interruption: Pcm):
        super().__init__(directory, realtime=True)
        self.room = room
        self.interruption: Pcm | None = interruption

    async def play(self, pcm: Pcm) -> None:
        await super().play(pcm)
        if self.interruption is not None:
            self.room.hear(self.interruption)  # the user, not the echo: no AEC needed here
            self.interruption = None


async def test_barge_in_stops_the_reply_and_answers_the_new_question(
        tmp_path: Path, engines: Engines) -> None:
    first = spoken(engines, "Tell me a long story about the sea and the ships.")
    room = LoopbackRoom(timeline(0.5, first, 0.5).pcm, tail_s=3.0)
    interruption = timeline(dev_clip("syn_05a.wav"), 0.6).pcm  # right as the reply starts
    sink = SpeakerThatGetsInterrupted(tmp_path / "replies", room, interruption)
    await sink.open()
    config = make_config(tmp_path, audio__barge_in=True)
    listener, state = listener_for(config, engines, sink)
    await listen(listener, state, room)
    assert listener.barge_ins == 1
    assert [t.transcript for t in state.turns] == [state.turns[0].transcript]
    assert "bedroom" in state.turns[0].transcript.lower()  # only the new question was answered
    assert len(sink.written) == 1


async def test_wake_word_gates_turns(tmp_path: Path, engines: Engines) -> None:
    audio = timeline(0.5, spoken(engines, "Hey Jarvis, turn on the kitchen lights."), 1.5,
                     spoken(engines, "Turn off the bedroom lamp."), 1.0)
    wav = audio.write(tmp_path / "wake.wav")
    config = make_config(tmp_path, wake__engine="micro", wake__model="hey_jarvis",
                         wake__followup_s=0.0)
    sink = WavDirSink(tmp_path / "replies")
    await sink.open()
    listener, state = listener_for(config, engines, sink)
    await listen(listener, state, WavFileSource(wav, realtime=False))
    assert [t.transcript.lower().count("kitchen") for t in state.turns] == [1]
    assert listener.ignored == 1  # the bedroom lamp had no wake word
    assert "kitchen" in state.turns[0].reply.lower()


async def test_follow_up_needs_no_wake_word(tmp_path: Path, engines: Engines) -> None:
    audio = timeline(0.5, spoken(engines, "Hey Jarvis, turn on the kitchen lights."), 3.0,
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
    assert len(state.turns) == 1 and "kitchen" in state.turns[0].reply.lower()
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


async def test_awake_chime_does_not_cut_the_question(tmp_path: Path, engines: Engines) -> None:
    rate = engines.tts.voice.sample_rate_hz
    t = np.arange(int(0.15 * rate)) / rate
    chime_path = tmp_path / "awake.wav"
    write_wav(chime_path, Pcm.from_float32(0.5 * np.sin(2 * np.pi * 660 * t), rate))
    audio = timeline(0.5, spoken(engines, "Hey Jarvis, turn on the kitchen lights."), 1.5)
    wav = audio.write(tmp_path / "wake.wav")
    config = make_config(tmp_path, wake__engine="micro", audio__awake_wav=str(chime_path))
    sink = WavDirSink(tmp_path / "replies")
    await sink.open()
    listener, state = listener_for(config, engines, sink)
    await listen(listener, state, WavFileSource(wav, realtime=True))
    assert len(state.turns) == 1 and "kitchen" in state.turns[0].transcript.lower()
    assert len(sink.written) == 2  # the chime, then the reply


@pytest.mark.parametrize(("followup_s", "conversations"), [(30.0, [1]), (0.0, [1, 2])])
async def test_follow_up_continues_the_conversation_later_turns_start_afresh(
        tmp_path: Path, engines: Engines, followup_s: float, conversations: list[int]) -> None:
    wav = timeline(0.5, dev_clip("syn_01a.wav"), 1.0, dev_clip("syn_05a.wav"), 1.0).write(
        tmp_path / "two.wav")
    config = make_config(tmp_path, wake__followup_s=followup_s)
    listener, state = listener_for(config, engines, None)
    await listen(listener, state, WavFileSource(wav, realtime=True))  # heard after the 1st reply
    assert len(state.turns) == 2
    memory = listener.pipeline.memory
    base = listener._conversation_base
    exchanges = [len(memory.history(f"{base}-{n}")) // 2 for n in conversations]
    assert sum(exchanges) == 2 and all(exchanges)
    assert memory.history(f"{base}-{len(conversations) + 1}") == []
