"""The engine scheduler: bounded waiting, 'busy' instead of a hang, streams that can stop early."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from satellite.errors import BusyError
from satellite.pipeline.scheduler import EngineScheduler, Priority


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


async def test_a_cancelled_call_keeps_the_engine_until_its_thread_returns() -> None:
    scheduler = EngineScheduler(workers=3)
    inside = threading.Event()
    release = threading.Event()
    at_once: list[int] = []
    running = 0
    lock = threading.Lock()

    def whisper(hold: bool) -> str:
        nonlocal running
        with lock:
            running += 1
            at_once.append(running)
        inside.set()
        if hold:
            release.wait(5)
        with lock:
            running -= 1
        return "done"

    first = asyncio.create_task(scheduler.run("stt", whisper, True))
    await asyncio.wait_for(asyncio.to_thread(inside.wait, 5), 6)
    first.cancel()  # barge-in: nobody wants this transcript any more
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(first, 5)
    second = asyncio.create_task(scheduler.run("stt", whisper, False))
    await asyncio.sleep(0.2)
    assert not second.done()  # waits: the first thread still runs Whisper
    assert [name for name, _ in scheduler.running()] == ["stt"]
    release.set()
    assert await asyncio.wait_for(second, 5) == "done"
    assert max(at_once) == 1  # never two Whisper calls at once
    scheduler.shutdown()


async def test_a_call_cancelled_before_it_started_is_never_computed() -> None:
    scheduler = EngineScheduler(workers=2)
    release = threading.Event()
    computed: list[str] = []
    holder = asyncio.create_task(scheduler.run("stt", release.wait, 5))
    await asyncio.sleep(0.05)
    waiting = asyncio.create_task(scheduler.run("stt", computed.append, "speculative"))
    await asyncio.sleep(0.05)
    assert scheduler.queue_depth == 1
    waiting.cancel()  # speech resumed: the speculative transcription is not wanted
    await asyncio.sleep(0)
    assert scheduler.queue_depth == 0
    release.set()
    await asyncio.wait_for(holder, 5)
    assert await asyncio.wait_for(scheduler.run("stt", lambda: "free"), 5) == "free"
    assert computed == []
    scheduler.shutdown()


async def test_the_room_goes_before_waiting_clients_and_is_never_refused() -> None:
    scheduler = EngineScheduler(workers=2, max_queue=2)
    release = threading.Event()
    order: list[str] = []
    holder = asyncio.create_task(scheduler.run("tts", release.wait, 5))
    await asyncio.sleep(0.05)
    clients = [asyncio.create_task(scheduler.run("tts", order.append, f"client {n}"))
               for n in range(2)]
    await asyncio.sleep(0.05)
    with pytest.raises(BusyError):  # the client queue is full...
        await asyncio.wait_for(scheduler.run("tts", order.append, "client 3"), 5)
    room = asyncio.create_task(  # ...but the room still gets in, and first
        scheduler.run("tts", order.append, "room", priority=Priority.ROOM))
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, room, *clients), 5)
    assert order == ["room", "client 0", "client 1"]
    scheduler.shutdown()


async def test_a_consumer_that_stops_reading_does_not_hold_the_engine() -> None:
    scheduler = EngineScheduler(workers=2)

    def tokens(cancel: threading.Event) -> Iterator[int]:
        yield from range(50)

    stream = scheduler.stream("llm", tokens)
    assert await asyncio.wait_for(anext(stream), 5) == 0
    # The consumer now stalls (a client that does not read). The engine is free once the
    # generation itself has finished, without the consumer taking another item.
    assert await asyncio.wait_for(scheduler.run("llm", lambda: "next request"), 5) == "next request"
    assert scheduler.running() == []
    rest = [item async for item in stream]
    assert rest == list(range(1, 50))  # nothing lost for the slow consumer
    scheduler.shutdown()


async def test_after_shutdown_requests_are_refused_not_hung() -> None:
    scheduler = EngineScheduler()
    scheduler.shutdown()
    with pytest.raises(BusyError, match="shutting down"):
        await asyncio.wait_for(scheduler.run("stt", lambda: 1), 5)


def counting(produced: list[int], cancel: threading.Event) -> Iterator[int]:
    for i in range(1000):
        if cancel.is_set():
            return
        produced.append(i)
        time.sleep(0.002)
        yield i


async def voice_held(scheduler: EngineScheduler) -> tuple[asyncio.Task[str], threading.Event]:
    """A TTS unit computing on its thread until the returned event is set; it returns "audio"."""
    started, release = threading.Event(), threading.Event()

    def synthesize() -> str:
        started.set()
        release.wait(10)
        return "audio"

    voice = asyncio.create_task(scheduler.run("tts", synthesize))
    await asyncio.to_thread(started.wait, 5)
    return voice, release


async def test_the_llm_stream_pauses_while_the_voice_computes() -> None:
    """The reply's first audio gets the cores: no LLM item is made while a TTS unit runs."""
    scheduler = EngineScheduler(workers=3, pauses_for={"llm": ("tts",)})
    produced: list[int] = []
    stream = scheduler.stream("llm", lambda cancel: counting(produced, cancel))
    got = [await anext(stream)]  # the LLM has started
    voice, release = await voice_held(scheduler)
    paused_at = len(produced)
    await asyncio.sleep(0.3)
    assert len(produced) <= paused_at + 1  # at most the item in hand when the voice started
    release.set()
    assert await asyncio.wait_for(voice, 5) == "audio"
    while len(got) < paused_at + 20:
        got.append(await asyncio.wait_for(anext(stream), 5))  # and it goes on
    await stream.aclose()
    assert got == list(range(len(got)))
    scheduler.shutdown()


async def test_a_pause_for_the_voice_is_bounded_and_ends_when_the_stream_is_closed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("satellite.pipeline.scheduler.MAX_PAUSE_S", 0.2)
    scheduler = EngineScheduler(workers=3, pauses_for={"llm": ("tts",)})
    produced: list[int] = []
    voice, release = await voice_held(scheduler)  # stuck
    stream = scheduler.stream("llm", lambda cancel: counting(produced, cancel))
    got = [await asyncio.wait_for(anext(stream), 5) for _ in range(3)]  # one item per bounded pause
    assert got == [0, 1, 2]
    await stream.aclose()
    # closed mid-pause: the LLM engine is free long before the stuck voice returns
    assert await asyncio.wait_for(scheduler.run("llm", lambda: "free"), 1) == "free"
    release.set()
    await asyncio.wait_for(voice, 5)
    scheduler.shutdown()


async def test_without_pauses_the_llm_runs_beside_the_voice() -> None:
    scheduler = EngineScheduler(workers=3)
    produced: list[int] = []
    voice, release = await voice_held(scheduler)
    stream = scheduler.stream("llm", lambda cancel: counting(produced, cancel))
    got = [await asyncio.wait_for(anext(stream), 1) for _ in range(30)]
    assert got == list(range(30))
    await stream.aclose()
    release.set()
    await asyncio.wait_for(voice, 5)
    scheduler.shutdown()


async def test_an_engine_with_capacity_runs_that_many_units_and_queues_the_rest_in_order() -> None:
    scheduler = EngineScheduler(workers=1, max_queue=8, capacity={"llm": 2})
    release = threading.Event()
    started: list[str] = []
    lock = threading.Lock()

    def unit(name: str) -> str:
        with lock:
            started.append(name)
        release.wait(5)
        return name

    tasks = [asyncio.create_task(scheduler.run("llm", unit, name)) for name in "abcd"]
    async with asyncio.timeout(5):
        while len(started) < 2:
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    assert started == ["a", "b"]  # two at once (a thread each), the others wait their turn
    assert scheduler.queue_depth == 2 and len(scheduler.running()) == 2
    release.set()
    assert await asyncio.wait_for(asyncio.gather(*tasks), 5) == ["a", "b", "c", "d"]
    assert started == ["a", "b", "c", "d"]
    scheduler.shutdown()


async def test_units_of_two_long_syntheses_and_a_short_one_take_turns() -> None:
    """The voice is fair: a short request's unit runs after at most one unit of each other
    request, not after a long synthesis's whole text."""
    scheduler = EngineScheduler(workers=2)
    order: list[str] = []

    def chunk(name: str) -> None:
        order.append(name)
        time.sleep(0.02)

    async def synthesis(name: str, chunks: int) -> None:
        for _ in range(chunks):
            await scheduler.run("tts", chunk, name)

    long_a = asyncio.create_task(synthesis("a", 6))
    long_b = asyncio.create_task(synthesis("b", 6))
    async with asyncio.timeout(5):
        while len(order) < 3:
            await asyncio.sleep(0.005)
    await asyncio.wait_for(synthesis("short", 1), 5)
    await asyncio.wait_for(asyncio.gather(long_a, long_b), 5)
    assert order.index("short") <= 6, order  # within one round of the others' units
    assert order.count("a") == order.count("b") == 6
    scheduler.shutdown()
