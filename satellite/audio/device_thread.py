"""Blocking audio-driver calls on a daemon thread of their own, each awaited with a bound.

PortAudio's ``write``, ``stop`` and ``close`` block, and on a broken device they
can block forever. Run in the loop's default executor, such a call would hold a
worker thread that ``asyncio.run`` and the interpreter wait for at exit, so one
stuck speaker would keep the daemon from ever stopping. Here each device gets
one daemon thread that runs its calls in order; a call that outlives its bound
raises ``DeviceTimeout`` and marks the thread stuck. The owner then drops the
thread (and the stream it was using) and starts afresh; the stuck thread cannot
hold the process at exit.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")


class DeviceTimeout(Exception):
    """A driver call did not return within its bound; the thread running it is stuck."""


class DeviceThread:
    def __init__(self, name: str):
        self.name = name
        self.stuck = False
        self._calls: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    async def call(self, timeout_s: float, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` on the device thread; ``DeviceTimeout`` after ``timeout_s``."""
        if self.stuck:
            raise DeviceTimeout(f"{self.name} is stuck in an earlier call")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self._calls.put((function, args, loop, done))
        try:
            async with asyncio.timeout(timeout_s):
                return await done
        except TimeoutError:
            self.stuck = True
            raise DeviceTimeout(f"{self.name}: {getattr(function, '__name__', 'call')} did not "
                                f"return within {timeout_s:.1f} s") from None

    def stop(self) -> None:
        """Let the thread end once its queued calls are done (a stuck thread stays stuck)."""
        self._calls.put(None)

    def _run(self) -> None:
        while (item := self._calls.get()) is not None:
            function, args, loop, done = item
            try:
                result = function(*args)
            except BaseException as error:  # noqa: BLE001 - handed to the awaiting coroutine
                _deliver(loop, done, None, error)
            else:
                _deliver(loop, done, result, None)


def _deliver(loop: asyncio.AbstractEventLoop, done: asyncio.Future[Any], result: Any,
             error: BaseException | None) -> None:
    def settle() -> None:
        if done.done():  # the caller gave up (timeout, cancelled)
            if error is not None:
                _LOGGER.debug("late driver call failed after its caller gave up: %s", error)
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        pass


__all__ = ["DeviceThread", "DeviceTimeout"]
