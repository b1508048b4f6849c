"""The ring and chimes are real, pleasant audio at any rate; the ring repeats on schedule until stopped."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from satellite.audio.pcm import Pcm
from satellite.timers import RingSchedule, awake_pcm, done_pcm, ring_pcm, ring_until_stopped


def dominant_hz(pcm: Pcm, start_s: float, end_s: float) -> float:
    samples = pcm.slice(start_s, end_s).float32()
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1.0 / pcm.rate_hz)[int(np.argmax(spectrum))])


@pytest.mark.parametrize("rate_hz", [8000, 16000, 22050, 44100, 48000])
def test_ring_is_a_two_tone_chime_at_any_rate(rate_hz: int) -> None:
    ring = ring_pcm(rate_hz)
    assert ring.rate_hz == rate_hz and ring.width == 2 and ring.channels == 1
    assert 1.3 <= ring.seconds <= 1.7
    samples = ring.samples().astype(np.int32)
    assert 0.45 * 32768 <= np.max(np.abs(samples)) <= 0.55 * 32768  # -6 dBFS, never clipping
    assert abs(samples[0]) < 200 and abs(samples[-1]) < 200  # no click at either end
    assert abs(dominant_hz(ring, 0.02, 0.28) - 1046.5) < 15  # the high note first...
    assert abs(dominant_hz(ring, 0.45, 0.74) - 784.0) < 15  # ...then the low one


@pytest.mark.parametrize("rate_hz", [16000, 22050])
def test_chimes_are_short_quiet_and_go_up_then_down(rate_hz: int) -> None:
    awake, done = awake_pcm(rate_hz), done_pcm(rate_hz)
    for chime in (awake, done):
        assert 0.15 <= chime.seconds <= 0.4
        assert np.max(np.abs(chime.samples().astype(np.int32))) <= 0.26 * 32768
    assert dominant_hz(awake, 0.0, 0.07) < dominant_hz(awake, 0.12, 0.25)  # rising: "I'm listening"
    assert dominant_hz(done, 0.0, 0.07) > dominant_hz(done, 0.12, 0.25)  # falling: "got it"


@pytest.mark.parametrize(("now_s", "next_s"), [
    (100.0, 100.0),  # rings at once
    (99.0, 100.0),
    (100.4, 100.0),  # woken a little late (a sleep overshoots): it still rings now
    (100.6, 103.0),  # mid-ring: the next one after the pause
    (103.0, 103.0),
    (103.1, 103.0),
    (103.6, 106.0),
    (157.0, 157.0),  # the last ring that starts within max_ring_s (60 s)
    (157.4, 157.0),
    (157.6, None),
    (400.0, None),
])
def test_ring_schedule(now_s: float, next_s: float | None) -> None:
    schedule = RingSchedule(started_s=100.0, ring_s=1.5, max_ring_s=60.0, pause_s=1.5)
    assert schedule.next_ring_s(now_s) == next_s


class FakeRoom:
    def __init__(self) -> None:
        self.now_s = 0.0
        self.played_at: list[float] = []
        self.stop_after: int | None = None

    def now(self) -> float:
        return self.now_s

    async def sleep(self, seconds: float) -> None:
        self.now_s += seconds

    async def play(self, pcm: Pcm) -> None:
        self.played_at.append(self.now_s)
        self.now_s += pcm.seconds

    def listening(self) -> bool:
        return 2.0 <= self.now_s < 8.0  # someone asks a question meanwhile

    def ringing(self) -> bool:
        return self.stop_after is None or len(self.played_at) < self.stop_after


async def test_ring_repeats_with_pauses_until_max_ring_s() -> None:
    room, ring = FakeRoom(), ring_pcm(16000)
    schedule = RingSchedule(0.0, ring.seconds, max_ring_s=10.0)
    played = await ring_until_stopped(room.play, ring, room.ringing, schedule, room.now, room.sleep)
    assert played == 4 and room.played_at == pytest.approx([0.0, 3.0, 6.0, 9.0], abs=1e-3)


async def test_ring_stops_when_the_timer_is_stopped() -> None:
    room, ring = FakeRoom(), ring_pcm(16000)
    room.stop_after = 2
    schedule = RingSchedule(0.0, ring.seconds, max_ring_s=60.0)
    assert await ring_until_stopped(room.play, ring, room.ringing, schedule, room.now, room.sleep) == 2


async def test_ring_is_skipped_while_the_room_answers_a_question() -> None:
    room, ring = FakeRoom(), ring_pcm(16000)
    schedule = RingSchedule(0.0, ring.seconds, max_ring_s=14.0)
    played = await ring_until_stopped(room.play, ring, room.ringing, schedule, room.now, room.sleep,
                                      hold=room.listening)
    assert room.played_at == pytest.approx([0.0, 9.0, 12.0], abs=1e-3) and played == 3


async def test_rings_even_when_every_sleep_wakes_late() -> None:
    """Seen in the room: each sleep overshot by a few ms, so every ring was already "past"."""
    clock = [100.0]
    played: list[float] = []

    async def late_sleep(seconds: float) -> None:
        clock[0] += seconds + 0.02

    async def play(pcm: object) -> None:
        played.append(clock[0])
        clock[0] += 1.5

    schedule = RingSchedule(started_s=100.01, ring_s=1.5, max_ring_s=10.0, pause_s=1.5)
    count = await asyncio.wait_for(ring_until_stopped(
        play, None, lambda: True, schedule, lambda: clock[0], late_sleep), 5)  # type: ignore[arg-type]
    assert count == 4 and played[0] < 100.1  # 100 s, 103 s, 106 s, 109 s


async def test_a_sink_that_returns_at_once_still_gets_each_ring_once() -> None:
    clock = [100.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    async def play(pcm: object) -> None:  # e.g. a WAV directory: no real-time playback
        return None

    schedule = RingSchedule(started_s=100.0, ring_s=1.5, max_ring_s=10.0, pause_s=1.5)
    count = await asyncio.wait_for(ring_until_stopped(
        play, None, lambda: True, schedule, lambda: clock[0], sleep), 5)  # type: ignore[arg-type]
    assert count == 4  # 100, 103, 106, 109
