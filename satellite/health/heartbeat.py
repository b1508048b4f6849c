"""The event loop's heartbeat: proof, readable from another thread, that the loop still runs.

A task on the main loop writes ``state.loop_heartbeat_s`` (monotonic seconds)
every ``interval_s``. The health server answers from its own thread, so when
something blocks the main loop the heartbeat goes stale and /healthz says so.
``HealthServer.start`` starts it; a daemon without the health server can call
``start_heartbeat`` itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from satellite.runtime.state import RuntimeState

_LOGGER = logging.getLogger(__name__)


async def beat(state: RuntimeState, interval_s: float = 1.0,
               clock: Callable[[], float] = time.monotonic) -> None:
    while True:
        state.loop_heartbeat_s = clock()
        await asyncio.sleep(interval_s)


def start_heartbeat(state: RuntimeState, interval_s: float = 1.0) -> asyncio.Task[None]:
    """Start beating on the running loop; cancel the task to stop."""
    state.loop_heartbeat_s = time.monotonic()
    return asyncio.get_running_loop().create_task(beat(state, interval_s), name="loop-heartbeat")
