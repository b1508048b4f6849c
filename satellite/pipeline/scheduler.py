"""Share the loaded engines between the mic loop and network clients.

Engines are synchronous and CPU-bound; they run on a bounded thread pool owned
here, one call at a time per engine (an asyncio lock per engine, taken before a
thread is used, so a waiting request never holds a worker). Requests beyond
``max_queue`` waiting ones are refused at once with ``BusyError``: never a hang.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from satellite.errors import BusyError

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
_DONE = object()


class EngineScheduler:
    def __init__(self, workers: int = 3, max_queue: int = 8,
                 clock: Callable[[], float] = time.monotonic):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine")
        self.max_queue = max_queue
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting = 0
        self._running: dict[int, tuple[str, float]] = {}
        self._ids = itertools.count()
        self._clock = clock
        self.refused = 0

    @property
    def queue_depth(self) -> int:
        return self._waiting

    def running(self) -> list[tuple[str, float]]:
        """(engine, seconds running) for each engine call in progress."""
        now = self._clock()
        return [(name, now - start) for name, start in list(self._running.values())]

    def oldest_call_s(self) -> float:
        return max((age for _, age in self.running()), default=0.0)

    async def _acquire(self, engine: str) -> asyncio.Lock:
        lock = self._locks.setdefault(engine, asyncio.Lock())
        if lock.locked():
            if self._waiting >= self.max_queue:
                self.refused += 1
                raise BusyError(f"busy: {self._waiting} requests already waiting")
            self._waiting += 1
            try:
                await lock.acquire()
            finally:
                self._waiting -= 1
        else:
            await lock.acquire()
        return lock

    async def run(self, engine: str, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the pool, holding ``engine``'s turn."""
        lock = await self._acquire(engine)
        call_id = next(self._ids)
        self._running[call_id] = (engine, self._clock())
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, lambda: fn(*args))
        finally:
            self._running.pop(call_id, None)
            lock.release()

    async def stream(self, engine: str, make_iter: Callable[[threading.Event], Iterator[T]]
                     ) -> AsyncIterator[T]:
        """Iterate a synchronous generator on the pool, yielding its items on the event loop.

        Closing the async iterator early sets the cancel event handed to
        ``make_iter`` and waits for the worker to let go of the engine.
        """
        lock = await self._acquire(engine)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancel = threading.Event()
        call_id = next(self._ids)
        self._running[call_id] = (engine, self._clock())

        def produce() -> None:
            try:
                for item in make_iter(cancel):
                    loop.call_soon_threadsafe(queue.put_nowait, item)
                    if cancel.is_set():
                        break
            except BaseException as error:  # handed to the consumer, raised there
                loop.call_soon_threadsafe(queue.put_nowait, error)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        future = loop.run_in_executor(self._executor, produce)
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
            try:
                await asyncio.shield(future)
            finally:
                self._running.pop(call_id, None)
                lock.release()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
