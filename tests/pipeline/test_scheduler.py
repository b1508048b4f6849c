"""The engine scheduler: bounded waiting, 'busy' instead of a hang, streams that can stop early."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from satellite.errors import BusyError
from satellite.pipeline.scheduler import EngineScheduler


async def test_full_queue_answers_busy_at_once() -> None:
    scheduler = EngineScheduler(workers=2, max_queue=1)
    release = threading.Event()
    first = asyncio.create_task(scheduler.run("llm", release.wait, 5))
    await asyncio.sleep(0)
    second = asyncio.create_task(scheduler.run("llm", lambda: "second"))
    await asyncio.sleep(0)
    assert scheduler.queue_depth == 1
    with pytest.raises(BusyError, match="busy"):
        await asyncio.wait_for(scheduler.run("llm", lambda: "third"), timeout=1)
    release.set()
    assert await asyncio.wait_for(first, 5) is True
    assert await asyncio.wait_for(second, 5) == "second"
    scheduler.shutdown()


async def test_different_engines_run_side_by_side() -> None:
    scheduler = EngineScheduler(workers=2, max_queue=0)
    started = threading.Event()
    release = threading.Event()

    def hold() -> None:
        started.set()
        release.wait(5)

    held = asyncio.create_task(scheduler.run("llm", hold))
    await asyncio.to_thread(started.wait, 5)
    assert await asyncio.wait_for(scheduler.run("tts", lambda: 42), 5) == 42
    assert [name for name, _ in scheduler.running()] == ["llm"]
    release.set()
    await asyncio.wait_for(held, 5)
    scheduler.shutdown()


async def test_stream_yields_items_and_stops_the_producer_when_closed() -> None:
    scheduler = EngineScheduler()
    produced: list[int] = []

    def numbers(cancel: threading.Event) -> Iterator[int]:
        for i in range(1000):
            if cancel.is_set():
                return
            produced.append(i)
            time.sleep(0.001)
            yield i

    stream = scheduler.stream("llm", numbers)
    got = []
    async for item in stream:
        got.append(item)
        if item == 3:
            break
    await stream.aclose()
    assert got == [0, 1, 2, 3]
    assert len(produced) < 1000
    # the engine is free again
    assert await asyncio.wait_for(scheduler.run("llm", lambda: "free"), 5) == "free"
    scheduler.shutdown()


async def test_stream_errors_reach_the_consumer() -> None:
    scheduler = EngineScheduler()

    def broken(cancel: threading.Event) -> Iterator[int]:
        yield 1
        raise ValueError("model exploded")

    with pytest.raises(ValueError, match="exploded"):
        async for _ in scheduler.stream("llm", broken):
            pass
    scheduler.shutdown()
