"""The echo canceller on a simulated room: the real WebRTC AEC3, Piper's voice, Whisper's ear."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from satellite.audio import Pcm, to_stt_format
from satellite.audio.echo import REFERENCE_LEAD_S, EchoCanceller, ReferenceTimeline, decide
from satellite.audio.sinks import CommandSink, WavDirSink
from satellite.config import Config
from satellite.engines import Engines
from satellite.engines.vad import create_vad
from satellite.intents.stop_words import RING_MIN_LOGPROB, STOP_HINTS, heard_stop
from satellite.pipeline import create_turn_service
from satellite.room.listener import OWN_VOICE_DB
from satellite.timers.ring import RING_PAUSE_S, ring_pcm
from scripts.room import echo_of, room_impulse
from tests.conftest import make_config
from tests.hearing import said_once, wer

RATE_HZ = 16000
CHUNK = 320  # the listener's 20 ms reads
REPLY = ("The ocean covers most of the surface of the Earth. Sailors have crossed it for thousands of "
         "years, guided by the stars, the sun and the wind, and today large ships carry most of "
         "the goods that the world trades.")
TALKER = "Please turn off the lights in the kitchen."


def say(engines: Engines, text: str) -> Pcm:
    blocks = list(engines.tts.synthesize(text, None))
    return Pcm(b"".join(b.audio for b in blocks), blocks[0].rate_hz)


def through(canceller: EchoCanceller, mic: np.ndarray, arrival_s: float = 0.0) -> np.ndarray:
    """``mic`` fed in 20 ms chunks that arrive in real time from ``arrival_s``; what comes out."""
    out = []
    for i in range(0, len(mic), CHUNK):
        chunk = Pcm(mic[i:i + CHUNK].tobytes(), RATE_HZ)
        out.append(canceller.process(chunk, arrival_s + (i + CHUNK) / RATE_HZ).samples())
    return np.concatenate(out)


def energy_db(x: np.ndarray) -> float:
    return 10 * float(np.log10(np.sum(x.astype(np.float64) ** 2) + 1.0))


def int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def config_with(tmp_path: Path, **audio: object) -> Config:
    audio = {"echo_cancel": True, **audio}  # off by default until barge-in is (#19, part 2)
    return make_config(tmp_path, **{f"audio__{k}": v for k, v in audio.items()})


@pytest.fixture(scope="module")
def reply(engines: Engines) -> Pcm:
    return say(engines, REPLY)  # at the voice's own rate, as the sink plays it


def test_the_reply_echo_is_reduced_and_a_person_over_it_is_understood(
        tmp_path: Path, engines: Engines, reply: Pcm) -> None:
    reference = to_stt_format(reply).samples().astype(np.float64)
    echo = echo_of(reference, room_impulse(RATE_HZ, delay_ms=40, gain_db=-10, tail_ms=150))
    talker = to_stt_format(say(engines, TALKER)).samples().astype(np.float64)
    at = int(5.0 * RATE_HZ)  # the canceller has heard 5 s of the reply by then
    near = np.zeros(len(echo))
    near[at:at + len(talker)] = talker[:len(echo) - at]
    mic = int16(echo + near)

    canceller = EchoCanceller(config_with(tmp_path).audio, audible_output=True)
    assert canceller.status.state == "ready"
    canceller.played(reply, 0.0)  # the sink: the whole reply starts to sound at t = 0
    cleaned = through(canceller, mic)

    echo_only = slice(2 * RATE_HZ, at)
    erle_db = energy_db(mic[echo_only]) - energy_db(cleaned[echo_only])
    assert erle_db > 20.0
    spoken = slice(at - RATE_HZ // 2, at + len(talker) + RATE_HZ // 2)
    heard = said_once(engines.stt.transcribe(Pcm(cleaned[spoken].tobytes(), RATE_HZ)).text)
    assert wer(TALKER, heard) <= 0.25, heard
    # What it took out of each, as the listener asks of speech over a reply: the box's own voice
    # comes out far lower, a person's voice over it nearly as it was.
    own_voice_db = canceller.taken_out_db(3.0, 4.5)
    person_db = canceller.taken_out_db(at / RATE_HZ, (at + len(talker)) / RATE_HZ)
    assert own_voice_db is not None and own_voice_db >= OWN_VOICE_DB + 10, own_voice_db
    assert person_db is not None and person_db < OWN_VOICE_DB - 3, person_db
    assert canceller.taken_out_db(len(mic) / RATE_HZ + 1, len(mic) / RATE_HZ + 2) is None  # (silent)
    assert canceller.lead_s == 0.0  # a 40 ms echo AEC3 finds by itself
    assert canceller.tone_frames == 0  # speech is left to AEC3, never taken for tones


def test_a_loop_that_stalled_and_caught_up_keeps_cancelling(tmp_path: Path, reply: Pcm) -> None:
    """The event loop stalls for 0.8 s (a loaded 2-core box: the reply's model, its voice and
    Whisper at once); the microphone's reads queued meanwhile arrive together, then on time
    again. The audio is as live as before: the canceller goes on (it stayed off for 4 s,
    barge-in with it, a daemon's run)."""
    reference = to_stt_format(reply).samples().astype(np.float64)
    mic = int16(echo_of(reference, room_impulse(RATE_HZ, delay_ms=40, gain_db=-10, tail_ms=150)))
    canceller = EchoCanceller(config_with(tmp_path).audio, audible_output=True)
    canceller.played(reply, 0.0)
    stall_from, stall_s = 2.0, 0.8
    out, live = [], []
    for i in range(0, len(mic), CHUNK):
        captured_s = (i + CHUNK) / RATE_HZ
        arrival_s = max(captured_s, stall_from + stall_s) if captured_s > stall_from else captured_s
        out.append(canceller.process(Pcm(mic[i:i + CHUNK].tobytes(), RATE_HZ), arrival_s).samples())
        live.append(canceller.live)
    cleaned = np.concatenate(out)
    assert all(live)
    after = slice(int((stall_from + stall_s + 0.2) * RATE_HZ), int((stall_from + 4.5) * RATE_HZ))
    assert energy_db(mic[after]) - energy_db(cleaned[after]) > 20.0


def test_an_echo_as_early_as_its_reference_gets_the_reference_ahead_of_it(
        tmp_path: Path, reply: Pcm) -> None:
    """A loopback room (the tests' own) or a sink whose clock is the speaker's: the echo is heard
    exactly when the sink says it plays, and the canceller hands AEC3 the reference earlier."""
    reference = to_stt_format(reply).samples().astype(np.float64)
    mic = int16(echo_of(reference, room_impulse(RATE_HZ, delay_ms=0, gain_db=-10, tail_ms=150)))
    canceller = EchoCanceller(config_with(tmp_path).audio, audible_output=True)
    canceller.played(reply, 0.0)
    cleaned = through(canceller, mic)
    assert canceller.lead_s == REFERENCE_LEAD_S
    later = slice(5 * RATE_HZ, len(mic))
    assert energy_db(mic[later]) - energy_db(cleaned[later]) > 20.0


def test_a_microphone_that_does_not_hear_the_box_passes_a_person_unchanged(
        tmp_path: Path, engines: Engines, reply: Pcm) -> None:
    """The speaker is out of the microphone's reach (another room, a test's room): AEC3 has no
    echo to learn and took "Stop." said over a ring for one; the audio passes as it came."""
    seconds = to_stt_format(reply).seconds
    talker = to_stt_format(say(engines, "Stop.")).samples()
    at = int(4.0 * RATE_HZ)  # 4 s into the reply
    mic = np.zeros(int(seconds * RATE_HZ), dtype=np.int16)
    mic[at:at + len(talker)] = talker
    canceller = EchoCanceller(config_with(tmp_path).audio, audible_output=True)
    canceller.played(reply, 0.0)
    cleaned = through(canceller, mic)
    assert not canceller.echo_heard
    assert np.array_equal(cleaned[at - RATE_HZ:at + len(talker)], mic[at - RATE_HZ:at + len(talker)])
    assert "does not hear" in canceller.status.detail


def test_rings_are_taken_out_a_stop_word_over_one_is_heard_and_the_next_reply_is_cancelled(
        tmp_path: Path, engines: Engines, reply: Pcm) -> None:
    """A timer rings four times after a reply, "Never mind." is said over the last ring, another reply
    follows: every ring's echo is reduced, the word is heard as a stop, and AEC3 (kept off the
    tones) still cancels the reply after them."""
    ring = ring_pcm(22050)
    ring_s, period_s = to_stt_format(ring).seconds, to_stt_format(ring).seconds + RING_PAUSE_S
    reply_s = to_stt_format(reply).seconds
    starts = [reply_s + 1.0 + k * period_s for k in range(4)]
    second_reply_s = starts[-1] + period_s
    played = np.zeros(int((second_reply_s + reply_s + 1.0) * RATE_HZ))
    reference = to_stt_format(reply).samples().astype(np.float64)
    for at_s, sound in [(0.0, reference), *[(s, to_stt_format(ring).samples()) for s in starts],
                        (second_reply_s, reference)]:
        played[int(at_s * RATE_HZ):int(at_s * RATE_HZ) + len(sound)] += sound
    mic = echo_of(played, room_impulse(RATE_HZ, delay_ms=40, gain_db=-6, tail_ms=150))
    stop = to_stt_format(say(engines, "Never mind.")).samples().astype(np.float64)
    said = int((starts[-1] + 0.2) * RATE_HZ)
    mic[said:said + len(stop)] += stop
    mic = int16(mic)

    canceller = EchoCanceller(config_with(tmp_path).audio, audible_output=True)
    for at_s, pcm in [(0.0, reply), *[(s, ring) for s in starts], (second_reply_s, reply)]:
        canceller.played(pcm, at_s)
    cleaned = through(canceller, mic)
    assert 0 < canceller.tone_frames * 0.01 < len(starts) * (ring_s + 0.7)

    tail = int(0.3 * RATE_HZ)
    for at_s in starts[:-1]:
        span = slice(int(at_s * RATE_HZ), int((at_s + ring_s) * RATE_HZ) + tail)
        assert energy_db(mic[span]) - energy_db(cleaned[span]) > 30.0
    heard = engines.stt.transcribe(Pcm(cleaned[said - RATE_HZ // 2:said + len(stop) + RATE_HZ // 2]
                                       .tobytes(), RATE_HZ), STOP_HINTS["en"])
    assert heard_stop(heard, "en", RING_MIN_LOGPROB), heard
    after = slice(int((second_reply_s + 2.0) * RATE_HZ), int((second_reply_s + reply_s) * RATE_HZ))
    assert energy_db(mic[after]) - energy_db(cleaned[after]) > 20.0


def test_a_person_without_any_reply_is_heard_as_before(tmp_path: Path, engines: Engines) -> None:
    talker = to_stt_format(say(engines, TALKER))
    mic = np.concatenate([np.zeros(RATE_HZ // 2), talker.samples(), np.zeros(RATE_HZ // 2)]).astype(np.int16)
    canceller = EchoCanceller(config_with(tmp_path).audio, audible_output=True)
    cleaned = through(canceller, mic)
    assert wer(TALKER, engines.stt.transcribe(Pcm(cleaned.tobytes(), RATE_HZ)).text) == 0.0


def test_config_off_passes_the_audio_unchanged_and_says_why(tmp_path: Path) -> None:
    canceller = EchoCanceller(config_with(tmp_path, echo_cancel=False).audio, audible_output=True)
    chunk = Pcm(np.arange(CHUNK, dtype=np.int16).tobytes(), RATE_HZ)
    assert canceller.process(chunk, 0.02) is chunk
    assert not canceller.wants_reference
    assert canceller.status.state == "off"
    assert "echo_cancel is off" in canceller.status.detail


def test_a_missing_library_passes_the_audio_unchanged_and_says_why(tmp_path: Path) -> None:
    def missing(*_: object) -> None:
        raise ImportError("No module named 'pywebrtc_audio'")

    canceller = EchoCanceller(config_with(tmp_path).audio, audible_output=True,
                              load=missing)  # type: ignore[arg-type]
    chunk = Pcm(bytes(2 * CHUNK), RATE_HZ)
    assert canceller.process(chunk, 0.02) is chunk
    assert canceller.status.state == "degraded"
    assert "pywebrtc-audio" in canceller.status.detail


def test_nothing_audible_means_nothing_to_cancel() -> None:
    assert decide(True, False, None).state == "off"
    assert "speaker or command" in decide(True, False, None).detail
    assert decide(True, True, None).state == "ready"
    assert decide(False, True, None).state == "off"


def test_audio_read_faster_than_real_time_cannot_be_aligned_and_passes_unchanged(
        tmp_path: Path) -> None:
    canceller = EchoCanceller(config_with(tmp_path).audio, audible_output=True)
    canceller.played(Pcm(np.full(RATE_HZ, 8000, dtype=np.int16).tobytes(), RATE_HZ), 0.0)
    mic = (np.random.default_rng(0).standard_normal(2 * RATE_HZ) * 3000).astype(np.int16)
    out = []
    for i in range(0, len(mic), CHUNK):  # a file read as fast as it goes: all of it at t = 0.1
        out.append(canceller.process(Pcm(mic[i:i + CHUNK].tobytes(), RATE_HZ), 0.1).samples())
    assert canceller.status.state == "off"
    assert "not live" in canceller.status.detail
    tail = np.concatenate(out)[-RATE_HZ:]
    assert np.array_equal(tail, mic[-RATE_HZ:])  # once judged not live, the audio as it came


def test_the_timeline_gives_what_sounded_when_and_silence_around_it() -> None:
    timeline = ReferenceTimeline()
    timeline.add(1.0, np.full(160, 7, dtype=np.int16))
    span = timeline.span(0.995, 320)  # from 5 ms before the block
    assert list(span[:80]) == [0] * 80
    assert list(span[80:240]) == [7] * 160
    assert list(span[240:]) == [0] * 80


def test_a_reply_cut_off_leaves_nothing_sounding_after_the_cut() -> None:
    timeline = ReferenceTimeline()
    timeline.add(1.0, np.full(1600, 7, dtype=np.int16))  # 100 ms from t = 1.0
    timeline.add(1.1, np.full(1600, 9, dtype=np.int16))  # handed over ahead: 100 ms from t = 1.1
    timeline.cut(1.05)
    span = timeline.span(1.0, 3200)
    assert list(span[:800]) == [7] * 800
    assert not span[800:].any()


def test_the_listener_takes_the_reference_from_an_audible_sink_and_shows_the_echo_state(
        tmp_path: Path, engines: Engines) -> None:
    config = make_config(tmp_path, audio__echo_cancel=True)
    sink = CommandSink("cat")
    listener = _listener(config, engines, sink)
    assert sink._watchers == (listener.echo.played,)
    assert listener.state.components["echo"].state == "ready"

    quiet = _listener(config, engines, WavDirSink(tmp_path / "replies"))
    component = quiet.state.components["echo"]
    assert (component.state, "speaker or command" in component.detail) == ("off", True)

    off = _listener(make_config(tmp_path, audio__echo_cancel=False), engines, CommandSink("cat"))
    assert off.state.components["echo"].detail == "audio.echo_cancel is off"


def _listener(config: Config, engines: Engines, sink: CommandSink | WavDirSink):  # type: ignore[no-untyped-def]
    from satellite.room.listener import Listener

    return Listener(config, create_turn_service(config, engines), sink, create_vad(config.vad))
