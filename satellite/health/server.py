"""The health HTTP door: /healthz, /readyz, /metrics, /status and a small status page.

It runs its own event loop on its own thread. That is the point: when
something blocks the main loop (a CPU-bound call that escaped the executor, a
deadlock), this server still answers, sees the main loop's heartbeat go stale
and says "503 event loop blocked for X s". It only reads ``RuntimeState`` (and
the scheduler's list of running calls), which the main loop writes; the reads
are snapshots of plain containers, safe under the GIL.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import logging
import os
import threading
import time
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from satellite.config import Config
from satellite.errors import SatelliteError
from satellite.health.checks import Verdict, liveness, readiness, status_document
from satellite.health.heartbeat import start_heartbeat
from satellite.pipeline.scheduler import EngineScheduler
from satellite.runtime.metrics import resident_memory_bytes
from satellite.runtime.state import RuntimeState

_LOGGER = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"
_NO_CACHE = {"Cache-Control": "no-store"}


class HealthServer:
    def __init__(self, config: Config, state: RuntimeState, scheduler: EngineScheduler | None,
                 heartbeat_interval_s: float | None = None):
        self.config = config
        self.state = state
        self.scheduler = scheduler
        # Beat several times within the staleness limit so one late beat is no false alarm.
        self.heartbeat_interval_s = heartbeat_interval_s or min(
            1.0, config.health.loop_blocked_s / 4)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._port: int | None = None
        self._was_alive = True
        self._main_loop: asyncio.AbstractEventLoop | None = None

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def url(self) -> str | None:
        if self._port is None:
            return None
        host = self.config.health.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self._port}/"

    async def start(self) -> None:
        """Start the heartbeat on the calling loop and the HTTP server on its own thread."""
        if not self.config.health.enabled:
            _LOGGER.info("health endpoint off (health.enabled: false)")
            return
        if self._thread is not None:
            return
        self._main_loop = asyncio.get_running_loop()  # where the mute switch is thrown
        self._heartbeat = start_heartbeat(self.state, self.heartbeat_interval_s)
        started: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._serve, args=(started,), name="health-http",
                                        daemon=True)
        self._thread.start()
        try:
            self._port = await asyncio.wait_for(asyncio.wrap_future(started), 30.0)
        except OSError as error:
            await self._stop_heartbeat()
            self._thread = None
            raise SatelliteError(
                f"health endpoint cannot listen on {self.config.health.host}:"
                f"{self.config.health.port}: {error.strerror or error} "
                "(set health.port or --health-port, or health.enabled: false)") from error
        _LOGGER.info("health endpoint on %s", self.url)

    async def stop(self) -> None:
        await self._stop_heartbeat()
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join, 10.0)
        self._thread = None
        self._loop = None
        self._port = None

    async def _stop_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            try:
                await self._heartbeat
            except asyncio.CancelledError:
                pass
            self._heartbeat = None

    # -- the server thread ---------------------------------------------------------------

    def _serve(self, started: concurrent.futures.Future[int]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, self.config.health.host, self.config.health.port)
            loop.run_until_complete(site.start())
            port = int(runner.addresses[0][1])
        except BaseException as error:  # handed to start(), which raises it on the main loop
            loop.run_until_complete(runner.cleanup())
            loop.close()
            started.set_exception(error)
            return
        self._loop = loop
        started.set_result(port)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.handle_healthz)
        app.router.add_get("/readyz", self.handle_readyz)
        app.router.add_get("/metrics", self.handle_metrics)
        app.router.add_get("/status", self.handle_status)
        app.router.add_get("/", self.handle_index)
        app.router.add_post("/mute", self.handle_mute)
        app.router.add_post("/unmute", self.handle_unmute)
        app.router.add_static("/static/", STATIC_DIR, append_version=False)
        return app

    # -- handlers ------------------------------------------------------------------------

    async def handle_mute(self, request: web.Request) -> web.Response:
        return self._switch(request, True)

    async def handle_unmute(self, request: web.Request) -> web.Response:
        return self._switch(request, False)

    def _switch(self, request: web.Request, muted: bool) -> web.Response:
        """The privacy mute's switch: from this machine only (a button's script, a shell); the
        status page and the metrics may be open to the LAN, the microphone is not."""
        if not _local(request.remote):
            return web.json_response({"error": "the mute switch answers this machine only"},
                                     status=403, headers=_NO_CACHE)
        switch, loop = self.state.mute_switch, self._main_loop
        if switch is None or loop is None:
            return web.json_response({"error": "no microphone to mute"}, status=409,
                                     headers=_NO_CACHE)
        loop.call_soon_threadsafe(switch, muted)
        return web.json_response({"muted": muted}, headers=_NO_CACHE)

    def _running(self) -> list[tuple[str, float]]:
        return self.scheduler.running() if self.scheduler is not None else []

    def _liveness(self) -> Verdict:
        health = self.config.health
        return liveness(self.state, time.monotonic(), self._running(),
                        health.loop_blocked_s, health.stuck_after_s)

    def alive(self) -> tuple[bool, str]:
        """Liveness without the heartbeat, for the systemd watchdog task on the main loop."""
        verdict = liveness(self.state, time.monotonic(), self._running(), None,
                           self.config.health.stuck_after_s)
        return verdict.ok, "; ".join(verdict.reasons)

    @staticmethod
    def _verdict_response(verdict: Verdict) -> web.Response:
        return web.json_response(verdict.as_dict(), status=200 if verdict.ok else 503,
                                 headers=_NO_CACHE)

    async def handle_healthz(self, request: web.Request) -> web.Response:
        verdict = self._liveness()
        if verdict.ok != self._was_alive:  # one line per change, not per probe
            self._was_alive = verdict.ok
            if verdict.ok:
                _LOGGER.warning("liveness ok again")
            else:
                _LOGGER.warning("liveness failing: %s", "; ".join(verdict.reasons))
        return self._verdict_response(verdict)

    async def handle_readyz(self, request: web.Request) -> web.Response:
        return self._verdict_response(readiness(self.state))

    async def handle_metrics(self, request: web.Request) -> web.Response:
        metrics = self.state.metrics
        if self.scheduler is not None:
            metrics.queue_depth.set(self.scheduler.queue_depth)
        metrics.ready.set(1.0 if readiness(self.state).ok else 0.0)
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, **_NO_CACHE})

    async def handle_status(self, request: web.Request) -> web.Response:
        document = status_document(
            self.state, live=self._liveness(), ready=readiness(self.state),
            recent_turns=self.config.health.recent_turns,
            queue_depth=self.scheduler.queue_depth if self.scheduler is not None else 0,
            running=self._running(), now_wall_s=time.time(),
            rss_bytes=resident_memory_bytes(), pid=os.getpid())
        return web.json_response(document, headers=_NO_CACHE)

    async def handle_index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers=_NO_CACHE)


def _local(remote: str | None) -> bool:
    """A peer on this machine (a loopback address, or a Unix socket)."""
    if not remote:
        return True
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
