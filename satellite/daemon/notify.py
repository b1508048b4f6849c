"""Tell systemd how the daemon is doing: READY=1, STATUS=, RELOADING=1, STOPPING=1, WATCHDOG=1.

Messages go through the ``sdnotify`` package to the datagram socket named by
``NOTIFY_SOCKET``; without it (not started by systemd, or not ``Type=notify``)
every call is a no-op. The watchdog pings come from a task on the daemon's
event loop, at half of ``WATCHDOG_USEC``, so a blocked loop stops the pings and
systemd restarts the service after ``WatchdogSec``. An optional ``is_alive``
probe (``HealthServer.alive``) also withholds the ping while an engine call is
stuck, so that too ends in a restart.

Usage from the daemon::

    notifier = SystemdNotifier(watchdog_enabled=config.health.watchdog)
    notifier.status("loading models")
    ...
    notifier.ready("listening; health on http://127.0.0.1:10780/")
    watchdog = notifier.start_watchdog(health_server.alive)   # a Task, or None when not asked
    # (or run ``await notifier.watchdog(probe)`` in a task of your own)
    ...
    notifier.stopping()
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping

import sdnotify

_LOGGER = logging.getLogger(__name__)

AliveProbe = Callable[[], tuple[bool, str]]


def watchdog_interval_s(env: Mapping[str, str], pid: int) -> float | None:
    """Half the watchdog timeout systemd asked for, or None when there is no watchdog for us."""
    raw = env.get("WATCHDOG_USEC", "")
    if not raw:
        return None
    owner = env.get("WATCHDOG_PID", "")
    if owner and owner != str(pid):
        return None
    try:
        usec = int(raw)
    except ValueError:
        _LOGGER.warning("ignoring WATCHDOG_USEC=%r: not a number of microseconds", raw)
        return None
    return usec / 2_000_000 if usec > 0 else None


class SystemdNotifier:
    def __init__(self, *, env: Mapping[str, str] | None = None, pid: int | None = None,
                 watchdog_enabled: bool = True):
        """``env``/``pid`` default to this process's; ``watchdog_enabled`` is health.watchdog."""
        env = os.environ if env is None else env
        self.socket_path = env.get("NOTIFY_SOCKET", "")
        self.watchdog_interval_s = (
            watchdog_interval_s(env, os.getpid() if pid is None else pid)
            if watchdog_enabled and self.socket_path else None)
        self._notifier: sdnotify.SystemdNotifier | None = None
        self._withholding = False
        if self.socket_path:
            try:
                # sdnotify reads NOTIFY_SOCKET from the process environment itself.
                self._notifier = sdnotify.SystemdNotifier(debug=True)
            except OSError as error:
                _LOGGER.warning("cannot reach systemd at NOTIFY_SOCKET=%s: %s", self.socket_path,
                                error)

    @property
    def enabled(self) -> bool:
        return self._notifier is not None

    def notify(self, *lines: str) -> None:
        if self._notifier is None:
            return
        message = "\n".join(lines)
        try:
            self._notifier.notify(message)
        except OSError as error:
            _LOGGER.warning("sd_notify %r failed: %s", message.split("\n", 1)[0], error)

    def ready(self, status: str | None = None) -> None:
        self.notify("READY=1", *_status_lines(status))

    def status(self, text: str) -> None:
        self.notify(*_status_lines(text))

    def reloading(self, status: str | None = "reloading") -> None:
        """Say a reload began; send ``ready()`` again when it is done."""
        monotonic_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.notify("RELOADING=1", f"MONOTONIC_USEC={monotonic_usec}", *_status_lines(status))

    def stopping(self, status: str | None = "stopping") -> None:
        self.notify("STOPPING=1", *_status_lines(status))

    def watchdog_ping(self) -> None:
        self.notify("WATCHDOG=1")

    def start_watchdog(self, is_alive: AliveProbe | None = None) -> asyncio.Task[None] | None:
        """Ping WATCHDOG=1 from the running loop; None when systemd asked for no watchdog."""
        if self._notifier is None or self.watchdog_interval_s is None:
            return None
        return asyncio.get_running_loop().create_task(self.watchdog(is_alive),
                                                      name="systemd-watchdog")

    async def watchdog(self, is_alive: AliveProbe | None = None) -> None:
        """Ping until cancelled; returns at once when systemd asked for no watchdog."""
        interval_s = self.watchdog_interval_s
        if self._notifier is None or interval_s is None:
            return
        _LOGGER.info("systemd watchdog: pinging every %.1f s", interval_s)
        while True:
            alive, reason = is_alive() if is_alive is not None else (True, "")
            if alive:
                if self._withholding:
                    _LOGGER.warning("alive again; resuming systemd watchdog pings")
                    self._withholding = False
                self.watchdog_ping()
            elif not self._withholding:
                # No ping: systemd restarts the service when WatchdogSec runs out.
                _LOGGER.error("withholding systemd watchdog pings: %s", reason)
                self.status(f"unhealthy: {reason}")
                self._withholding = True
            await asyncio.sleep(interval_s)

    def close(self) -> None:
        if self._notifier is not None and self._notifier.socket is not None:
            self._notifier.socket.close()
        self._notifier = None


def _status_lines(status: str | None) -> list[str]:
    if not status:
        return []
    return [f"STATUS={' '.join(status.split())}"]  # one line: a newline would end the field
