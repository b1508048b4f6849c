"""TimerService over a real SQLite file, driven by real sentences and a clock the test moves."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import TypeVar

import pytest

from satellite.config.schema import TimersConfig
from satellite.intents import IntentRecognizer
from satellite.intents.recognizer import IntentMatch
from satellite.pipeline.store import StateDbWorker, close_state_db, open_state_db
from satellite.runtime.metrics import Metrics
from satellite.timers import STOP_RINGING, LoopClock, Timer, TimerService, TimerState, TimerStore, answers
from tests.timers.clock import ManualClock

T = TypeVar("T")
TIMEOUT_S = 10.0


async def within(awaitable: Awaitable[T]) -> T:
    return await asyncio.wait_for(awaitable, TIMEOUT_S)


@pytest.fixture(scope="module")
def recognizer() -> IntentRecognizer:
    return IntentRecognizer("en", ["kitchen", "office"], ["kitchen lights"])


class Box:
    """One process's view: a connection, the DB thread, a service; ``restart`` makes the next one."""

    def __init__(self, state_dir: Path, clock: ManualClock, recognizer: IntentRecognizer,
                 config: TimersConfig | None = None):
        self.state_dir = state_dir
        self.clock = clock
        self.recognizer = recognizer
        self.config = config or TimersConfig()
        conn = open_state_db(state_dir)
        assert conn is not None
        self.conn: sqlite3.Connection = conn
        self.db = StateDbWorker()
        self.metrics = Metrics()
        self.rang: list[Timer] = []
        self.service = TimerService(self.config, TimerStore(self.conn), db=self.db, clock=clock,
                                    metrics=self.metrics)
        self.service.on_ring = self.rang.append

    async def say(self, text: str, area: str | None = "kitchen") -> str:
        match = self.service.match(text) or self.recognizer.recognize(text)
        assert match is not None, f"not recognized: {text!r}"
        assert self.service.handles(match.name), match
        return await within(self.service.handle(match, area))

    async def close(self) -> None:
        await within(self.service.close())
        self.db.close(lambda: close_state_db(self.conn))

    def metric(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels or None)
        return 0.0 if value is None else value


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def box(tmp_path: Path, clock: ManualClock, recognizer: IntentRecognizer) -> AsyncIterator[Box]:
    made = Box(tmp_path / "state", clock, recognizer)
    assert await within(made.service.start()) == []
    yield made
    await made.close()


async def test_a_timer_counts_down_and_answers_how_much_is_left(box: Box, clock: ManualClock) -> None:
    assert await box.say("set a timer for five minutes") == "Timer set for 5 minutes."
    clock.advance(50)
    assert await box.say("how much time is left on the timer?") == \
        "Your timer has 4 minutes and 10 seconds left."
    assert await box.say("how much time is left") == "Your timer has 4 minutes and 10 seconds left."
    [row] = box.service.snapshot()
    assert row["state"] == "running" and row["remaining_s"] == 250.0 and row["area"] == "kitchen"
    assert row["label"] == "5 minute timer" and row["duration_s"] == 300.0


async def test_several_named_timers_and_cancelling_one_of_two(box: Box, clock: ManualClock) -> None:
    assert await box.say("set a ten minute pasta timer") == "Pasta timer set for 10 minutes."
    assert await box.say("set an egg timer for 7 minutes") == "Egg timer set for 7 minutes."
    clock.advance(60)
    assert await box.say("how much time is left on the timer") == (
        "You have two timers: the egg timer has 6 minutes left and the pasta timer has 9 minutes left.")
    assert await box.say("cancel the timer") == (
        "You have two timers. Which one do you mean: the pasta timer or the egg timer?")
    assert len(box.service.timers) == 2
    assert await box.say("cancel the pasta timer") == "Cancelled the pasta timer."
    assert [t.name for t in box.service.timers] == ["egg"]
    assert await box.say("how much time is left on the pasta timer") == "There is no pasta timer."
    assert await box.say("how much time is left on the timer") == "Your egg timer has 6 minutes left."
    clock.advance(600)  # the cancelled pasta timer never rings
    assert [t.name for t in box.rang] == ["egg"]


async def test_adding_and_taking_off_time(box: Box, clock: ManualClock) -> None:
    await box.say("set a pasta timer for ten minutes")
    clock.advance(230)
    assert await box.say("add two minutes") == \
        "Added 2 minutes: the pasta timer has 8 minutes and 10 seconds left."
    assert await box.say("take 30 seconds off the pasta timer") == \
        "Took 30 seconds off: the pasta timer has 7 minutes and 40 seconds left."
    clock.advance(459)
    assert box.rang == []
    clock.advance(1)
    assert [t.name for t in box.rang] == ["pasta"]


async def test_taking_off_more_than_is_left_makes_it_ring_now(box: Box, clock: ManualClock) -> None:
    await box.say("set a timer for two minutes")
    assert await box.say("take five minutes off the timer") == \
        "Took 5 minutes off: the 2 minute timer is done."
    assert len(box.rang) == 1 and box.service.ringing == box.rang


async def test_pause_and_resume(box: Box, clock: ManualClock) -> None:
    await box.say("set a timer for 5 minutes")
    clock.advance(60)
    assert await box.say("pause the timer") == "Paused the 5 minute timer with 4 minutes left."
    assert await box.say("pause the timer") == "The 5 minute timer is already paused."
    clock.advance(3600)
    assert box.rang == []
    assert await box.say("how much time is left") == "Your timer is paused with 4 minutes left."
    assert await box.say("unpause the timer") == "Resumed the 5 minute timer: 4 minutes left."
    assert await box.say("resume the timer") == "The 5 minute timer is already running."
    clock.advance(239)
    assert box.rang == []
    clock.advance(1)
    assert len(box.rang) == 1


async def test_a_finished_timer_rings_once_until_stop(box: Box, clock: ManualClock) -> None:
    await box.say("set a 10 second timer")
    assert box.service.match("stop") is None  # nothing rings: "stop" is not ours
    clock.advance(10)
    assert len(box.rang) == 1 and box.rang[0].state is TimerState.RINGING
    clock.advance(20)
    assert len(box.rang) == 1  # on_ring is called once
    assert box.service.ringing == box.rang
    assert box.service.snapshot()[0]["state"] == "ringing"
    match = box.service.match("stop")
    assert match is not None and match.name == STOP_RINGING
    assert await within(box.service.handle(match)) == ""  # silence is the answer
    assert box.service.ringing == [] and box.service.timers == []
    assert box.service.stop_ringing() is False
    assert box.metric("satellite_timers_finished_total", missed="false") == 1


async def test_ringing_ends_by_itself_after_max_ring_s(box: Box, clock: ManualClock) -> None:
    await box.say("set a timer for 1 minute")
    clock.advance(60 + box.config.max_ring_s - 1)
    assert len(box.service.ringing) == 1
    clock.advance(1)
    assert box.service.ringing == []
    assert box.metric("satellite_timers", state="ringing") == 0


async def test_stop_the_timer_while_it_rings_stops_that_one(box: Box, clock: ManualClock) -> None:
    await box.say("set a pasta timer for 1 minute")
    await box.say("set an egg timer for 10 minutes")
    clock.advance(61)
    assert await box.say("stop the timer") == ""  # the box's own "stop" phrase
    assert box.service.ringing == []
    assert [t.name for t in box.service.timers] == ["egg"]
    clock.advance(540)  # the egg timer rings now
    assert await box.say("cancel the egg timer") == "Stopped the egg timer."


async def test_add_time_to_a_ringing_timer_runs_it_again(box: Box, clock: ManualClock) -> None:
    await box.say("set a pasta timer for 1 minute")
    clock.advance(60)
    assert await box.say("give me two more minutes") == \
        "Added 2 minutes: the pasta timer has 2 minutes left."
    assert box.service.ringing == []
    clock.advance(120)
    assert len(box.rang) == 2


async def test_cancel_all_timers(box: Box) -> None:
    for text in ("set a timer for 1 minute", "set a pasta timer for 2 minutes", "set a 3 minute timer"):
        await box.say(text)
    assert await box.say("cancel all timers") == "Cancelled all three timers."
    assert box.service.timers == []
    assert box.metric("satellite_timers_cancelled_total") == 3
    assert await box.say("cancel all timers") == "There is no timer running."


async def test_commands_without_a_timer_say_so(box: Box) -> None:
    for text in ("how much time is left", "add two minutes", "cancel the timer", "pause the timer",
                 "take a minute off"):
        assert await box.say(text) == "There is no timer running.", text
    assert await box.say("resume the pasta timer") == "There is no pasta timer."


async def test_limits_are_refused_out_loud(tmp_path: Path, clock: ManualClock,
                                          recognizer: IntentRecognizer) -> None:
    box = Box(tmp_path / "s", clock, recognizer,
              TimersConfig(max_timers=2, max_duration_s=3600.0))
    try:
        await within(box.service.start())
        assert await box.say("set a timer for 2 hours") == "I can only set timers up to 1 hour."
        await box.say("set a pasta timer for 5 minutes")
        assert await box.say("set a pasta timer for 6 minutes") == \
            "You already have a pasta timer; it has 5 minutes left."
        await box.say("set a timer for 5 minutes")
        assert await box.say("set a timer for 7 minutes") == \
            "You already have two timers. Cancel one first."
        assert await box.say("add 58 minutes to the pasta timer") == "I can only set timers up to 1 hour."
        assert await box.say("turn off the kitchen lights in 10 minutes") == answers.LATER_COMMAND
        assert len(box.service.timers) == 2
        assert box.metric("satellite_timers_started_total") == 2
        assert box.metric("satellite_timers", state="running") == 2
    finally:
        await box.close()


async def test_each_change_is_stored_before_the_answer(box: Box, tmp_path: Path) -> None:
    await box.say("set a pasta timer for ten minutes")
    other = sqlite3.connect(tmp_path / "state" / "satellite.sqlite3")  # as another process would
    try:
        [(name, state, ends_at_s)] = other.execute("SELECT name, state, ends_at_s FROM timers").fetchall()
        assert (name, state) == ("pasta", "running")
        assert ends_at_s == box.clock.now() + 600
        await box.say("pause the pasta timer")
        assert other.execute("SELECT state, remaining_s FROM timers").fetchall() == [("paused", 600.0)]
    finally:
        other.close()


async def test_restart_restores_timers_and_reports_those_that_ran_out(
        tmp_path: Path, clock: ManualClock, recognizer: IntentRecognizer) -> None:
    first = Box(tmp_path / "state", clock, recognizer)
    await within(first.service.start())
    await first.say("set a timer for five minutes")
    await first.say("set a twenty minute roast timer")
    await first.say("set a pasta timer for 15 minutes")
    await first.say("pause the pasta timer")
    clock.advance(120)
    await first.close()

    clock.advance(600)  # the process is down for ten minutes
    second = Box(tmp_path / "state", clock, recognizer)
    try:
        missed = await within(second.service.start())
        assert [(t.duration_s, t.state) for t in missed] == [(300.0, TimerState.FINISHED)]
        assert answers.missed(missed, clock.now()) == \
            "While I was off, your 5 minute timer went off, 7 minutes ago."
        assert second.metric("satellite_timers_finished_total", missed="true") == 1
        assert await second.say("how much time is left on the roast timer") == \
            "Your roast timer has 8 minutes left."
        assert await second.say("how much time is left on the pasta timer") == \
            "Your pasta timer is paused with 15 minutes left."
        assert second.metric("satellite_timers", state="running") == 1
        assert second.metric("satellite_timers", state="paused") == 1
        clock.advance(479)
        assert second.rang == []
        clock.advance(1)
        assert [t.name for t in second.rang] == ["roast"]
    finally:
        await second.close()

    third = Box(tmp_path / "state", clock, recognizer)  # the missed one is announced once only
    try:
        assert await within(third.service.start()) == []
        assert [t.name for t in third.service.timers] == ["pasta"]  # roast rang: finished now
    finally:
        await third.close()


async def test_without_a_state_database_timers_run_in_memory(clock: ManualClock,
                                                            recognizer: IntentRecognizer) -> None:
    service = TimerService(TimersConfig(), None, clock=clock)
    rang: list[Timer] = []
    service.on_ring = rang.append
    assert await within(service.start()) == []
    match = recognizer.recognize("set a timer for 30 seconds")
    assert match is not None
    assert await within(service.handle(match)) == "Timer set for 30 seconds."
    clock.advance(30)
    assert len(rang) == 1
    await within(service.close())


async def test_a_failing_on_ring_callback_is_logged_and_counted(box: Box, clock: ManualClock,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    def broken(timer: Timer) -> None:
        raise RuntimeError("speaker gone")

    box.service.on_ring = broken
    await box.say("set a timer for 10 seconds")
    clock.advance(10)
    assert len(box.service.ringing) == 1  # the timer still rings
    assert "on_ring callback failed" in caplog.text
    assert box.metric("satellite_errors_total", kind="timer_on_ring") == 1


async def test_disabled_timers_handle_nothing(clock: ManualClock) -> None:
    service = TimerService(TimersConfig(enabled=False), None, clock=clock)
    assert not service.handles("HassStartTimer")
    assert service.match("add two minutes") is None


async def test_loop_clock_fires_a_real_short_timer(recognizer: IntentRecognizer) -> None:
    """The real clock, end to end: a 1 second timer rings on the running loop."""
    service = TimerService(TimersConfig(), None)
    rang: asyncio.Future[Timer] = asyncio.get_running_loop().create_future()
    service.on_ring = rang.set_result
    match = recognizer.recognize("set a timer for 1 second")
    assert match is not None
    await within(service.handle(match))
    timer = await within(rang)
    assert timer.state is TimerState.RINGING
    await within(service.close())


class SteppedWall:
    def __init__(self) -> None:
        self.now_s = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now_s


async def test_loop_clock_follows_the_wall_clock_when_it_is_stepped() -> None:
    """NTP stepping the clock after boot: the alarm goes by the wall clock, looked at every recheck_s."""
    wall = SteppedWall()
    clock = LoopClock(wall, recheck_s=0.02)
    fired = asyncio.Event()
    clock.call_at(wall.now_s + 3600, fired.set)
    await asyncio.sleep(0.1)  # several rechecks: the wall clock has not moved, so nothing fires
    assert not fired.is_set()
    wall.now_s += 3600  # the clock is stepped an hour forward
    await within(fired.wait())


async def test_loop_clock_alarm_can_be_cancelled_and_never_fires_inside_call_at() -> None:
    wall = SteppedWall()
    clock = LoopClock(wall, recheck_s=0.02)
    calls: list[str] = []
    clock.call_at(wall.now_s - 5, lambda: calls.append("due"))
    assert calls == []  # due already, but called from the loop, not from inside call_at
    clock.call_at(wall.now_s + 0.01, lambda: calls.append("cancelled")).cancel()
    done = asyncio.Event()
    clock.call_at(wall.now_s, done.set)
    wall.now_s += 1
    await within(done.wait())
    await asyncio.sleep(0.05)
    assert calls == ["due"]


async def test_a_spanish_stop_word_stops_the_ring(tmp_path: Path, clock: ManualClock) -> None:
    conn = open_state_db(tmp_path)
    assert conn is not None
    db = StateDbWorker()
    service = TimerService(TimersConfig(), TimerStore(conn), db=db, clock=clock, language="es")
    rang: list[Timer] = []
    service.on_ring = rang.append
    try:
        await within(service.handle(IntentMatch("HassStartTimer", {"seconds": 10}, "pon un "
                                                "temporizador de 10 segundos")))
        assert service.match("Para.") is None  # nothing rings yet
        clock.advance(10)
        assert len(rang) == 1
        match = service.match("¡Para ya!")
        assert match is not None and match.name == STOP_RINGING
        assert await within(service.handle(match)) == "" and service.ringing == []
    finally:
        await within(service.close())
        db.close(lambda: close_state_db(conn))
