"""Publish each remote link on /status and /readyz, count its failures, and reconnect with backoff.

One task per link, on the event loop: it probes the server at start, then again
when the link's retry time comes while it is down (1 s doubling up to
``remote.reconnect_max_s``), or every ``remote.probe_interval_s`` while it is up.
The probe runs on a thread and is bounded by its own timeout. Outcomes reported
by engine threads reach the loop through ``call_soon_threadsafe``.

Component state, under the stage's name (stt, llm, tts, intent): ``ready`` when
the server answers; ``degraded`` while it is down (not ready: the room would
hear apologies), or ``ready`` with a note when a local fallback answers instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from satellite.config.schema import RemoteConfig
from satellite.errors import RemoteError
from satellite.remote.link import RemoteLink
from satellite.runtime.state import RuntimeState

_LOGGER = logging.getLogger(__name__)


class RemoteMonitor:
    def __init__(self, links: dict[str, RemoteLink], state: RuntimeState, config: RemoteConfig,
                 fallbacks: frozenset[str] = frozenset()):
        self.links = links
        self.state = state
        self.config = config
        self.fallbacks = fallbacks  # stages with a local engine behind the remote
        self._tasks: list[asyncio.Task[None]] = []
        self._changed: dict[str, asyncio.Event] = {}

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for stage, link in self.links.items():
            changed = self._changed[stage] = asyncio.Event()
            self.publish(link)

            def on_outcome(link: RemoteLink, error: RemoteError | None, changed: asyncio.Event = changed
                           ) -> None:  # on an engine thread, or on the loop for probes
                if error is not None:
                    self.state.metrics.remote_failures.labels(stage=link.stage,
                                                              reason=error.reason).inc()
                with contextlib.suppress(RuntimeError):  # the loop has closed: nothing to show
                    loop.call_soon_threadsafe(self._changed_on_loop, link, changed)

            link.listeners.append(on_outcome)
            self._tasks.append(loop.create_task(self._watch(link, changed), name=f"remote {stage}"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def _changed_on_loop(self, link: RemoteLink, changed: asyncio.Event) -> None:
        self.publish(link)
        changed.set()

    def publish(self, link: RemoteLink) -> None:
        stage = link.stage
        self.state.metrics.remote_up.labels(stage=stage).set(1 if link.state == "up" else 0)
        if link.state == "up":
            self.state.set_component(stage, "ready", f"remote {link.uri}"
                                     + (f" ({link.detail})" if link.detail else ""))
        elif link.state == "unknown":
            self.state.set_component(stage, "starting", f"connecting to {link.uri}")
        elif stage in self.fallbacks:
            self.state.set_component(stage, "ready", f"remote down, the local engine answers: "
                                     f"{link.detail}")
        else:
            self.state.set_component(stage, "degraded", link.detail)

    async def _watch(self, link: RemoteLink, changed: asyncio.Event) -> None:
        while True:
            await asyncio.to_thread(link.probe)  # bounded by the probe's own timeout
            while True:
                changed.clear()
                wait_s = link.next_probe_in(self.config.probe_interval_s)
                if wait_s <= 0:
                    break
                try:
                    await asyncio.wait_for(changed.wait(), wait_s)
                except TimeoutError:
                    break
