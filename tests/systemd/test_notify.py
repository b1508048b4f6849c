"""sd_notify messages, received on a real unix datagram socket passed as NOTIFY_SOCKET."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from satellite.daemon.notify import SystemdNotifier, watchdog_interval_s


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    receiver.settimeout(5.0)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield receiver
    receiver.close()


def receive(receiver: socket.socket) -> str:
    return receiver.recv(4096).decode()


def test_ready_status_reloading_and_stopping_reach_the_socket(notify_socket: socket.socket) -> None:
    notifier = SystemdNotifier(env=os.environ)
    assert notifier.enabled
    notifier.status("loading models")
    notifier.ready("listening\non the mic")
    notifier.reloading()
    notifier.stopping()
    notifier.close()
    assert receive(notify_socket) == "STATUS=loading models"
    assert receive(notify_socket) == "READY=1\nSTATUS=listening on the mic"
    reloading = receive(notify_socket).split("\n")
    assert reloading[0] == "RELOADING=1" and reloading[1].startswith("MONOTONIC_USEC=")
    assert receive(notify_socket) == "STOPPING=1\nSTATUS=stopping"


def test_everything_is_a_no_op_without_notify_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = SystemdNotifier(env={"WATCHDOG_USEC": "1000000"})
    assert not notifier.enabled and notifier.watchdog_interval_s is None
    notifier.ready("x")
    notifier.stopping()


@pytest.mark.parametrize(("env", "expected"), [
    ({}, None),
    ({"WATCHDOG_USEC": "30000000"}, 15.0),
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"}, 15.0),
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "43"}, None),  # another process's watchdog
    ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "soon"}, None),
])
def test_watchdog_interval_is_half_of_watchdog_usec(env: dict[str, str],
                                                    expected: float | None) -> None:
    assert watchdog_interval_s(env, pid=42) == expected


@pytest.mark.asyncio(loop_scope="session")
async def test_watchdog_pings_from_the_event_loop(notify_socket: socket.socket) -> None:
    notifier = SystemdNotifier(env={**os.environ, "WATCHDOG_USEC": "200000"})
    assert notifier.watchdog_interval_s == pytest.approx(0.1)
    notify_socket.setblocking(False)
    loop = asyncio.get_running_loop()
    task = notifier.start_watchdog()
    assert task is not None
    try:
        pings = [await asyncio.wait_for(loop.sock_recv(notify_socket, 4096), 5) for _ in range(3)]
    finally:
        task.cancel()
        notifier.close()
    assert pings == [b"WATCHDOG=1"] * 3


@pytest.mark.asyncio(loop_scope="session")
async def test_watchdog_is_withheld_while_the_probe_says_dead(notify_socket: socket.socket) -> None:
    notifier = SystemdNotifier(env={**os.environ, "WATCHDOG_USEC": "100000"})
    alive = {"ok": False}
    notify_socket.setblocking(False)
    loop = asyncio.get_running_loop()
    task = notifier.start_watchdog(lambda: (alive["ok"], "engine call stuck: llm"))
    assert task is not None
    try:
        first = await asyncio.wait_for(loop.sock_recv(notify_socket, 4096), 5)
        assert first == b"STATUS=unhealthy: engine call stuck: llm"
        alive["ok"] = True
        assert await asyncio.wait_for(loop.sock_recv(notify_socket, 4096), 5) == b"WATCHDOG=1"
    finally:
        task.cancel()
        notifier.close()


def test_watchdog_off_when_health_watchdog_is_false(notify_socket: socket.socket) -> None:
    notifier = SystemdNotifier(env={**os.environ, "WATCHDOG_USEC": "100000"},
                               watchdog_enabled=False)
    assert notifier.watchdog_interval_s is None
    notifier.close()


def test_a_blocked_loop_sends_no_watchdog_pings(notify_socket: socket.socket) -> None:
    """The pings come from the loop itself: while it is blocked, none arrive."""
    notifier = SystemdNotifier(env={**os.environ, "WATCHDOG_USEC": "100000"})
    notify_socket.settimeout(0.5)

    async def blocked() -> None:
        task = notifier.start_watchdog()
        assert task is not None
        await asyncio.sleep(0)  # the first ping
        time.sleep(0.6)  # the loop is blocked: five intervals without a ping
        task.cancel()

    asyncio.run(blocked())
    notifier.close()
    received = []
    try:
        while True:
            received.append(notify_socket.recv(4096))
    except TimeoutError:
        pass
    assert received == [b"WATCHDOG=1"]
