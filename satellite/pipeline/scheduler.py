"""Share the loaded engines between the room and network clients.

Engines are synchronous and CPU-bound; they run on a bounded thread pool owned
here, one unit of work at a time per engine (a transcription, one TTS chunk, one
LLM generation). The rules:

- An engine is held for the computation only, never while a consumer is slow:
  a stream's items are handed over through a buffer, and the engine is free as
  soon as the producer thread returns.
- The engine stays held until its thread has really returned, also when the
  awaiting task is cancelled (barge-in, shutdown): two Whisper calls never run
  at once. A unit cancelled before its thread started is skipped.
- The room goes first: waiting ``Priority.ROOM`` requests are served before any
  ``Priority.CLIENT`` request, and are never refused. Beyond ``max_queue``
  waiting client requests, a client is refused at once with ``BusyError``.
- An engine that computes several requests together (``capacity``: the batched LLM's
  parallel sequences, the batched STT) is held by up to that many units at once; beyond
  them, requests wait in the same order.
- ``running()`` lists units that are computing, so stuck-engine detection never
  mistakes a client that does not read for an engine that does not finish.
- The voice goes first (``pauses_for``): a stream such as the LLM's waits between
  items while a unit of an engine it pauses for (TTS) computes. On two cores a
  Piper chunk took 150 ms alone and 310-430 ms beside a generating LLM; the
  reply's first audio waits for that chunk, and the LLM, far faster than speech,
  loses nothing audible. Each pause is bounded (``MAX_PAUSE_S``), so a client's
  long synthesis cannot starve the room's LLM.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import heapq
import itertools
import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from satellite.errors import BusyError
from satellite.runtime.priority import lower_thread_priority

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
_DONE = object()
MAX_PAUSE_S = 1.0  # the longest a stream waits between two items for the engines it pauses for


class Priority(enum.IntEnum):
    ROOM = 0  # the person in the room: served first, never refused
    CLIENT = 1  # a network client (Wyoming): queued up to max_queue, then "busy"


class _EngineTurn:
    """Who holds one engine (up to ``capacity`` units at once), and who waits for it in priority
    order (FIFO within a priority)."""

    def __init__(self, capacity: int = 1) -> None:
        self.capacity = capacity
        self.holders = 0
        self.waiters: list[tuple[int, int, asyncio.Future[None]]] = []

    @property
    def full(self) -> bool:
        return self.holders >= self.capacity

    def release(self) -> None:
        while self.waiters:
            _, _, waiter = heapq.heappop(self.waiters)
            if not waiter.done():
                waiter.set_result(None)  # the place passes to it, still held
                return
        self.holders -= 1


class EngineScheduler:
    def __init__(self, workers: int = 3, max_queue: int = 8,
                 clock: Callable[[], float] = time.monotonic,
                 pauses_for: dict[str, tuple[str, ...]] | None = None,
                 capacity: dict[str, int] | None = None):
        """``capacity``: engine -> units it computes at once (1 when not named)."""
        self.capacity = {name: max(1, n) for name, n in (capacity or {}).items()}
        # a thread per unit an engine may run beside the others
        workers += sum(n - 1 for n in self.capacity.values())
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine",
                                            initializer=lower_thread_priority)
        self.max_queue = max_queue
        self.pauses_for = dict(pauses_for or {})  # stream engine -> engines it waits for
        self._computing: dict[str, int] = {}  # engine -> units on a thread now (guarded by _idle)
        self._idle = threading.Condition()
        self._engines: dict[str, _EngineTurn] = {}
        self._running: dict[int, tuple[str, float]] = {}
        self._ids = itertools.count()
        self._clock = clock
        self.closed = False

    @property
    def queue_depth(self) -> int:
        return sum(1 for turn in self._engines.values() for *_, w in turn.waiters if not w.done())

    def _client_waiting(self) -> int:
        return sum(1 for turn in self._engines.values()
                   for priority, _, w in turn.waiters if priority == Priority.CLIENT and not w.done())

    def running(self) -> list[tuple[str, float]]:
        """(engine, seconds computing) for each unit of work in progress on a thread."""
        now = self._clock()
        return [(name, now - start) for name, start in list(self._running.values())]

    async def _acquire(self, engine: str, priority: Priority) -> _EngineTurn:
        if self.closed:
            raise BusyError("shutting down")
        turn = self._engines.setdefault(engine, _EngineTurn(self.capacity.get(engine, 1)))
        if not turn.full:  # (waiters only ever wait on a full engine)
            turn.holders += 1
            return turn
        if priority != Priority.ROOM and self._client_waiting() >= self.max_queue:
            raise BusyError(f"busy: {self._client_waiting()} requests already waiting")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(turn.waiters, (int(priority), next(self._ids), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                turn.release()  # it was handed the engine just as it was cancelled: pass it on
            else:
                waiter.cancel()
            task = asyncio.current_task()
            if self.closed and task is not None and not task.cancelling():
                raise BusyError("shutting down") from None
            raise
        return turn

    def _start(self, engine: str) -> int:
        call_id = next(self._ids)
        self._running[call_id] = (engine, self._clock())
        return call_id

    def _finish(self, call_id: int, turn: _EngineTurn) -> None:
        self._running.pop(call_id, None)
        turn.release()

    async def run(self, engine: str, fn: Callable[..., T], *args: Any,
                  priority: Priority = Priority.CLIENT) -> T:
        """Run ``fn(*args)`` on the pool as one unit of work on ``engine``."""
        turn = await self._acquire(engine, priority)
        skip = threading.Event()
        call_id = self._start(engine)

        def unit() -> T:
            if skip.is_set():
                raise _Skipped  # cancelled before it started: never computed
            with self._computing_on(engine):
                return fn(*args)

        try:
            future = asyncio.get_running_loop().run_in_executor(self._executor, unit)
        except RuntimeError:  # the pool is shut down
            self._finish(call_id, turn)
            raise BusyError("shutting down") from None
        future.add_done_callback(lambda _: self._finish(call_id, turn))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            skip.set()  # the engine is released by the done callback, when the thread returns
            future.add_done_callback(_retrieve)
            raise

    async def stream(self, engine: str, make_iter: Callable[[threading.Event], Iterator[T]],
                     priority: Priority = Priority.CLIENT) -> AsyncGenerator[T, None]:
        """Iterate a synchronous generator on the pool (one unit of work), items on the loop.

        Items are buffered, so the engine is free once the generator has finished,
        however slowly they are consumed; the caller bounds how many there are (an
        LLM's max_tokens). Closing the iterator early sets the cancel event handed to
        ``make_iter``; the engine is released when the worker has let go.
        """
        turn = await self._acquire(engine, priority)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancel = threading.Event()
        call_id = self._start(engine)

        # (an engine computing several streams at once pauses in its own thread: not per item)
        pauses_for = self.pauses_for.get(engine, ()) if self.capacity.get(engine, 1) == 1 else ()

        def produce() -> None:
            try:
                if cancel.is_set():
                    return
                for item in make_iter(cancel):
                    loop.call_soon_threadsafe(queue.put_nowait, item)
                    if cancel.is_set():
                        break
                    if pauses_for:
                        self.wait_while_computing(pauses_for, cancel)
            except BaseException as error:  # handed to the consumer, raised there
                loop.call_soon_threadsafe(queue.put_nowait, error)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        try:
            future = loop.run_in_executor(self._executor, produce)
        except RuntimeError:
            self._finish(call_id, turn)
            raise BusyError("shutting down") from None
        future.add_done_callback(lambda _: self._finish(call_id, turn))
        future.add_done_callback(_retrieve)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            cancel.set()
            with self._idle:
                self._idle.notify_all()  # a producer pausing for the voice stops now

    @contextlib.contextmanager
    def _computing_on(self, engine: str) -> Iterator[None]:
        with self._idle:
            self._computing[engine] = self._computing.get(engine, 0) + 1
        try:
            yield
        finally:
            with self._idle:
                self._computing[engine] -= 1
                self._idle.notify_all()

    def wait_while_computing(self, engines: tuple[str, ...], cancel: threading.Event) -> None:
        """On a worker thread: wait (at most ``MAX_PAUSE_S``) while one of ``engines`` computes."""
        with self._idle:
            self._idle.wait_for(
                lambda: cancel.is_set() or not any(self._computing.get(e) for e in engines),
                timeout=MAX_PAUSE_S)

    def shutdown(self) -> None:
        """Refuse new work and stop the pool without waiting for running units."""
        self.closed = True
        for turn in self._engines.values():
            for *_, waiter in turn.waiters:
                if not waiter.done():
                    waiter.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)


class _Skipped(Exception):
    """A unit whose caller went away before a thread picked it up."""


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Consume the outcome of a unit nobody awaits any more, so it is not logged as lost."""
    if not future.cancelled() and future.exception() is not None:
        _LOGGER.debug("abandoned engine call ended with %r", future.exception())
