"""CaptureSupervisor: a source that floods, raises, stalls or behaves never holds the daemon's loop."""

from __future__ import annotations

import asyncio
import logging
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from satellite.audio.pcm import Pcm
from satellite.audio.sources import AudioSource, CommandSource
from satellite.daemon.capture import CaptureSupervisor, RealTimePacer, SpeedMeter
from satellite.runtime.state import RuntimeState

TIMEOUT_S = 20.0
CHUNK = Pcm.silence(0.064)


def tone(seconds: float, rate_hz: int = 16000) -> Pcm:
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    return Pcm.from_float32(0.3 * np.sin(2 * np.pi * 440 * t), rate_hz)


class RecordingState(RuntimeState):
    """Remembers every state the "mic" component went through."""

    def set_component(self, name: str, state: str, detail: str = "") -> None:
        if name == "mic":
            self.mic_history.append(state)
        super().set_component(name, state, detail)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.mic_history: list[str] = []


def metric(state: RuntimeState, name: str, labels: dict[str, str] | None = None) -> float:
    value = state.metrics.registry.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


class Ticker:
    """Another coroutine on the same loop: counts how often it gets scheduled."""

    def __init__(self) -> None:
        self.ticks = 0
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            self.ticks += 1

    def stop(self) -> None:
        self.task.cancel()


async def wait_until(condition, what: str, timeout_s: float = TIMEOUT_S) -> None:  # type: ignore[no-untyped-def]
    try:
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"not within {timeout_s:g} s: {what}")


async def cancel_within(task: asyncio.Task[None], timeout_s: float = 5.0) -> None:
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    assert done, f"the capture task was still running {timeout_s:g} s after cancel()"


class FloodingSource(AudioSource):
    """A microphone with no clock: every read returns at once, never suspending."""

    live = True
    real_time = True
    name = "flood"

    async def read(self) -> Pcm | None:
        return CHUNK


async def test_a_flooding_source_is_paced_reported_and_cancelled_at_once() -> None:
    state = RuntimeState()
    received_s = 0.0

    def on_audio(pcm: Pcm) -> None:
        nonlocal received_s
        received_s += pcm.seconds

    supervisor = CaptureSupervisor(FloodingSource(), state, on_audio, stall_s=2.0)
    ticker = Ticker()
    loop = asyncio.get_running_loop()
    started_s = loop.time()
    task = asyncio.create_task(supervisor.run())
    try:
        await wait_until(lambda: supervisor.floods >= 1, "the flood is reported")
        ticks_before = ticker.ticks
        await asyncio.sleep(1.0)
        assert ticker.ticks > ticks_before + 10, "the loop starved while the source flooded"
        mic = state.components["mic"]
        assert mic.state == "degraded"
        assert "real time (no clock?); pacing it" in mic.detail
        assert supervisor.speed_ratio is not None and supervisor.speed_ratio > 10
        assert metric(state, "satellite_audio_source_speed_ratio") > 10
        assert metric(state, "satellite_audio_source_floods_total") == 1.0
        wall_s = loop.time() - started_s
        assert received_s <= wall_s * 1.1 + 2.0, "paced: audio runs ahead of wall time by the burst"
    finally:
        await cancel_within(task)
        ticker.stop()


async def test_the_flood_warning_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="satellite.daemon.capture")
    state = RuntimeState()
    supervisor = CaptureSupervisor(FloodingSource(), state, lambda pcm: None, stall_s=2.0,
                                   flood_window_s=0.5)
    task = asyncio.create_task(supervisor.run())
    try:
        await wait_until(lambda: supervisor.floods >= 1, "the flood is reported")
        await asyncio.sleep(2.0)  # several more windows of flooding
    finally:
        await cancel_within(task)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "real time" in r.message]
    assert len(warnings) == 1
    assert supervisor.floods == 1


class BurstThenRealTimeSource(AudioSource):
    """Floods for its first ``flood_chunks`` reads, then delivers at real time."""

    live = True
    real_time = True
    name = "burst"

    def __init__(self, flood_chunks: int) -> None:
        self.flood_chunks = flood_chunks
        self.reads = 0

    async def read(self) -> Pcm | None:
        self.reads += 1
        if self.reads > self.flood_chunks:
            await asyncio.sleep(CHUNK.seconds)
        return CHUNK


async def test_a_source_that_behaves_again_is_ready_again() -> None:
    state = RuntimeState()
    source = BurstThenRealTimeSource(flood_chunks=60)  # 3.8 s of audio at once
    supervisor = CaptureSupervisor(source, state, lambda pcm: None, stall_s=2.0,
                                   flood_window_s=0.5)
    task = asyncio.create_task(supervisor.run())
    try:
        await wait_until(lambda: supervisor.floods == 1, "the flood is reported")
        await wait_until(lambda: source.reads > 60 and state.components["mic"].state == "ready",
                         "the mic is ready again once the source delivers in real time")
        assert supervisor.speed_ratio is not None and supervisor.speed_ratio < 1.5
    finally:
        await cancel_within(task)


class RaisingSource(AudioSource):
    """A driver with a bug: read() raises on the first ``bad_opens`` opens, then works."""

    live = True
    real_time = True
    name = "raising"

    def __init__(self, bad_opens: int) -> None:
        self.bad_opens = bad_opens
        self.opens = 0

    async def open(self) -> None:
        self.opens += 1

    async def read(self) -> Pcm | None:
        if self.opens <= self.bad_opens:
            raise RuntimeError("driver bug")
        await asyncio.sleep(CHUNK.seconds)
        return CHUNK


async def test_a_source_that_raises_is_failed_logged_once_and_reopened(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="satellite.daemon.capture")
    state = RecordingState()
    source = RaisingSource(bad_opens=3)
    frames: list[Pcm] = []
    supervisor = CaptureSupervisor(source, state, frames.append, stall_s=5.0, backoff_s=0.05)
    ticker = Ticker()
    task = asyncio.create_task(supervisor.run())
    try:
        await wait_until(lambda: len(frames) >= 3, "frames flow after the reopens")
        assert ticker.ticks > 0 and not task.done()
    finally:
        await cancel_within(task)
        ticker.stop()
    assert "failed" in state.mic_history
    assert state.mic_history[-1] == "ready"
    assert source.opens == 4 and supervisor.reopens == 3
    assert state.components["mic"].state == "ready"
    tracebacks = [r for r in caplog.records if r.exc_info and "driver bug" in r.getMessage()]
    assert len(tracebacks) == 1, "the traceback is logged once, not on every reopen"
    assert metric(state, "satellite_errors_total", {"kind": "audio_input"}) == 3.0


async def test_a_source_that_raises_shows_the_error_while_down() -> None:
    state = RuntimeState()
    supervisor = CaptureSupervisor(RaisingSource(bad_opens=10**6), state, lambda pcm: None,
                                   stall_s=2.0, backoff_s=0.05, max_backoff_s=0.1)
    task = asyncio.create_task(supervisor.run())
    try:
        await wait_until(lambda: supervisor.reopens >= 2, "reopened with backoff")
        mic = state.components["mic"]
        assert mic.state == "failed" and "RuntimeError('driver bug')" in mic.detail
    finally:
        await cancel_within(task)


class SilentSource(AudioSource):
    """A live microphone that opens and never delivers a frame."""

    live = True
    real_time = True
    name = "silent"

    async def read(self) -> Pcm | None:
        await asyncio.Event().wait()
        return None


async def test_a_silent_mic_is_degraded_after_mic_stall_s_and_counted() -> None:
    state = RuntimeState()
    supervisor = CaptureSupervisor(SilentSource(), state, lambda pcm: None, stall_s=0.3,
                                   backoff_s=5.0)
    task = asyncio.create_task(supervisor.run())
    try:
        await wait_until(lambda: supervisor.stalls == 1, "the stall is noticed")
        mic = state.components["mic"]
        assert mic.state == "degraded" and "no frames for 0.3 s" in mic.detail
        assert metric(state, "satellite_audio_source_stalls_total") == 1.0
    finally:
        await cancel_within(task)


def python_command(script: str) -> str:
    return f"{sys.executable} -c '{textwrap.dedent(script).strip()}'"


PACED_WRITER = """
import sys, time
out = sys.stdout.buffer
t0 = time.monotonic()
for i in range({blocks}):
    out.write(bytes(640))
    out.flush()
    time.sleep(max(0.0, t0 + (i + 1) * 0.02 - time.monotonic()))
"""


async def test_a_real_time_mic_command_is_not_a_flood() -> None:
    state = RuntimeState()
    seen: set[str] = set()
    received_s = 0.0

    def on_audio(pcm: Pcm) -> None:
        nonlocal received_s
        received_s += pcm.seconds
        seen.add(state.components["mic"].state)

    source = CommandSource(python_command(PACED_WRITER.format(blocks=200)))  # 4 s, 20 ms a write
    supervisor = CaptureSupervisor(source, state, on_audio, stall_s=5.0, flood_window_s=1.0)
    async with asyncio.timeout(TIMEOUT_S):
        await supervisor.run()
    assert received_s == pytest.approx(4.0, abs=0.07)
    assert seen == {"ready"}
    assert supervisor.floods == 0 and supervisor.stalls == 0
    assert supervisor.speed_ratio is not None and 0.5 < supervisor.speed_ratio < 1.5
    assert state.components["mic"].state == "off"  # the command's exit ended the input


async def test_a_mic_command_that_floods_is_paced_but_loses_nothing(tmp_path: Path) -> None:
    raw = tmp_path / "in.raw"
    audio = tone(4.0)
    raw.write_bytes(audio.audio)
    state = RuntimeState()
    received: list[bytes] = []
    supervisor = CaptureSupervisor(CommandSource(f"cat {raw}"), state,
                                   lambda pcm: received.append(pcm.audio), stall_s=5.0,
                                   flood_window_s=0.5)
    loop = asyncio.get_running_loop()
    started_s = loop.time()
    async with asyncio.timeout(TIMEOUT_S):
        await supervisor.run()
    assert b"".join(received) == audio.audio  # a command is held back through its pipe, not dropped
    assert loop.time() - started_s >= 4.0 - 1.0 - 0.2  # paced: real time less the burst
    assert supervisor.floods == 1
    assert state.components["mic"].state == "off"


STALLING_WRITER = """
import sys, time
out = sys.stdout.buffer
out.write(bytes(6400)); out.flush()
time.sleep(1.5)
out.write(bytes(6400)); out.flush()
"""


async def test_a_mic_command_that_stalls_is_degraded_then_its_exit_ends_input() -> None:
    state = RuntimeState()
    history: list[str] = []

    def on_audio(pcm: Pcm) -> None:
        history.append(state.components["mic"].state)

    supervisor = CaptureSupervisor(CommandSource(python_command(STALLING_WRITER)), state, on_audio,
                                   stall_s=0.5)
    task = asyncio.create_task(supervisor.run())
    try:
        await wait_until(lambda: history and state.components["mic"].state == "degraded",
                         "the stall after the first frames is noticed")
        mic = state.components["mic"]
        assert "no frames for 0.5 s" in mic.detail and "reopening" not in mic.detail
        assert metric(state, "satellite_audio_source_stalls_total") >= 1.0
        async with asyncio.timeout(TIMEOUT_S):
            await task
    finally:
        await cancel_within(task)
    assert "ready" in history[-1:]  # its frames after the stall made it ready again
    assert supervisor.reopens == 0  # a command is not restarted
    assert state.components["mic"].state == "off"


@pytest.mark.parametrize(
    ("arrivals", "held"),
    [
        # real time: a 64 ms chunk every 64 ms, for ten minutes: never held
        ([(i * 0.064, 0.064) for i in range(1, 9375)], False),
        # a device clock 0.5 % fast, for an hour: never held
        ([(i * 0.064, 0.064 * 1.005) for i in range(1, 56250)], False),
        # a clock 5 % fast is not a real device clock: held once the burst is used up
        ([(i * 0.064, 0.064 * 1.05) for i in range(1, 56250)], True),
    ],
)
def test_pacer_never_holds_a_real_time_source(arrivals: list[tuple[float, float]], held: bool) -> None:
    pacer = RealTimePacer(burst_s=1.0)
    delays = [pacer.admit(now_s, audio_s) for now_s, audio_s in arrivals]
    assert any(d > 0 for d in delays) is held


def test_pacer_holds_a_flood_to_the_burst() -> None:
    pacer = RealTimePacer(burst_s=1.0)
    now_s = 0.0
    audio_s = 0.0
    for _ in range(1000):  # 64 s of audio arriving with no time passing, unless held
        now_s += pacer.admit(now_s, 0.064)
        audio_s += 0.064
    assert audio_s - now_s * pacer.tolerance == pytest.approx(1.0, abs=0.07)


def test_pacer_lets_a_mic_catch_up_on_queued_frames() -> None:
    pacer = RealTimePacer(burst_s=1.0, catch_up_s=10.0)
    assert pacer.admit(0.0, 0.064) == 0.0
    # the loop was busy for 5 s: 5 s of frames are queued and read at once
    assert all(pacer.admit(5.0, 0.064) == 0.0 for _ in range(78))
    # but a source silent for an hour earns no more than catch_up_s + burst of flooding
    pacer = RealTimePacer(burst_s=1.0, catch_up_s=10.0)
    pacer.admit(0.0, 0.064)
    free = 0
    while pacer.admit(3600.0, 0.064) == 0.0:
        free += 1
    assert free * 0.064 == pytest.approx(11.0, abs=0.2)


def test_speed_meter_leaves_out_the_time_held() -> None:
    meter = SpeedMeter(window_s=2.0)
    assert meter.add(0.0, 0.5, 0.0) is None
    # 2 s of wall time, 1.9 s of it held back, 2.5 s of audio: 25x when asked
    ratio, held = meter.add(2.0, 2.0, 1.9)  # type: ignore[misc]
    assert ratio == pytest.approx(25.0) and held
    ratio, held = meter.add(4.0, 2.0, 0.0)  # type: ignore[misc]
    assert ratio == pytest.approx(1.0) and not held


class CountedMic(AudioSource):
    """A live microphone in real time that counts its opens and closes."""

    live = True
    real_time = True
    name = "counted"

    def __init__(self) -> None:
        self.opens = self.closes = 0
        self.open_now = False

    async def open(self) -> None:
        self.opens += 1
        self.open_now = True

    async def close(self) -> None:
        self.closes += 1
        self.open_now = False

    async def read(self) -> Pcm | None:
        await asyncio.sleep(CHUNK.seconds)
        return CHUNK


async def test_muted_a_live_microphone_is_closed_and_nothing_is_handed_on_until_unmuted() -> None:
    state = RecordingState()
    heard: list[Pcm] = []
    source = CountedMic()
    supervisor = CaptureSupervisor(source, state, heard.append, stall_s=2.0)
    task = asyncio.create_task(supervisor.run())
    try:
        await wait_until(lambda: len(heard) >= 3, "the microphone is heard")
        supervisor.set_muted(True)
        await wait_until(lambda: not source.open_now, "the device is closed")
        count = len(heard)
        await asyncio.sleep(0.5)
        assert len(heard) == count and not source.open_now  # nothing read, nothing handed on
        assert state.components["mic"].state == "off" and "muted" in state.components["mic"].detail
        assert supervisor.reopens == 0  # a mute is no failure
        supervisor.set_muted(False)
        await wait_until(lambda: len(heard) > count + 3, "heard again once unmuted")
        assert source.opens == 2 and state.components["mic"].state == "ready"
    finally:
        await cancel_within(task)


async def test_muted_a_mic_command_is_read_on_and_dropped() -> None:
    state = RuntimeState()
    heard: list[Pcm] = []
    source = CommandSource(python_command(PACED_WRITER.format(blocks=100)))  # 2 s, 20 ms a write
    supervisor = CaptureSupervisor(source, state, heard.append, stall_s=5.0)
    supervisor.set_muted(True)
    await asyncio.wait_for(supervisor.run(), TIMEOUT_S)  # its exit is the end of input, as ever
    assert heard == [] and supervisor.dropped_s == pytest.approx(2.0, abs=0.07)
