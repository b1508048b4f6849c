"""`satellite serve` as systemd runs it: a real process, a real NOTIFY_SOCKET, real HTTP.

It must say READY=1 only once the models are loaded (and /readyz must say 503
until then), ping WATCHDOG=1 at half of WATCHDOG_USEC, serve /healthz and
/metrics, and say STOPPING=1 then exit 0 on SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]
TIMEOUT_S = 120.0
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10)
HEALTH_URL = re.compile(r"health endpoint on http://127\.0\.0\.1:(\d+)/")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class NotifyListener:
    """Collects sd_notify datagrams from a unix socket on the event loop."""

    def __init__(self, path: Path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setblocking(False)
        self.messages: list[str] = []
        self.arrived = asyncio.Event()
        self.task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            data = await loop.sock_recv(self.sock, 4096)
            self.messages.append(data.decode())
            self.arrived.set()

    async def wait_for(self, prefix: str) -> str:
        async with asyncio.timeout(TIMEOUT_S):
            while True:
                for message in self.messages:
                    if message.startswith(prefix):
                        return message
                self.arrived.clear()
                await self.arrived.wait()

    def close(self) -> None:
        self.task.cancel()
        self.sock.close()


async def read_health_port(stderr: asyncio.StreamReader, lines: list[str]) -> int:
    async with asyncio.timeout(TIMEOUT_S):
        while True:
            raw = await stderr.readline()
            if not raw:
                raise AssertionError("satellite serve exited:\n" + "".join(lines[-40:]))
            lines.append(raw.decode(errors="replace"))
            match = HEALTH_URL.search(lines[-1])
            if match:
                return int(match.group(1))


async def drain(stderr: asyncio.StreamReader, lines: list[str]) -> None:
    while raw := await stderr.readline():
        lines.append(raw.decode(errors="replace"))


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
        async with session.get(f"http://127.0.0.1:{port}{path}") as response:
            return response.status, await response.text()


async def test_serve_notifies_systemd_and_is_ready_only_after_models_load(tmp_path: Path) -> None:
    listener = NotifyListener(tmp_path / "notify.sock")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATELLITE")}
    env.update(NOTIFY_SOCKET=str(tmp_path / "notify.sock"), WATCHDOG_USEC="1000000")
    wyoming_port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "satellite", "--state-dir", str(tmp_path / "state"),
        "--log-level", "INFO", "serve", "--uri", f"tcp://127.0.0.1:{wyoming_port}", "--health-port", "0",
        "--no-zeroconf", env=env, cwd=REPO, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    lines: list[str] = []
    drainer = None
    try:
        port = await read_health_port(process.stderr, lines)
        drainer = asyncio.create_task(drain(process.stderr, lines))
        # The health door opens before the models load: not ready yet, and it says why.
        status, body = await get(port, "/readyz")
        assert status == 503, body
        assert any("loading model" in reason for reason in json.loads(body)["reasons"]), body
        assert not any(m.startswith("READY=1") for m in listener.messages)
        status, body = await get(port, "/healthz")
        assert status == 200, body

        async with asyncio.timeout(TIMEOUT_S):  # the first 200 means every door is open
            while (await get(port, "/readyz"))[0] != 200:
                await asyncio.sleep(0.02)
        _, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", wyoming_port), 10)
        writer.close()
        ready = await listener.wait_for("READY=1")
        assert "STATUS=" in ready
        status_doc = json.loads((await get(port, "/status"))[1])
        assert {"stt", "llm", "tts"} <= set(status_doc["model_load_s"])
        assert all(seconds > 0 for seconds in status_doc["model_load_s"].values())

        assert await listener.wait_for("WATCHDOG=1") == "WATCHDOG=1"
        status, text = await get(port, "/metrics")
        assert status == 200
        samples = {s.name: s.value for f in text_string_to_metric_families(text)
                   for s in f.samples if not s.labels}
        assert samples["satellite_ready"] == 1.0
        assert samples["satellite_process_resident_memory_bytes"] > 50_000_000

        process.send_signal(signal.SIGTERM)
        assert (await listener.wait_for("STOPPING=1")).startswith("STOPPING=1")
        async with asyncio.timeout(TIMEOUT_S):
            assert await process.wait() == 0, "".join(lines[-40:])
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        if drainer is not None:
            drainer.cancel()
        listener.close()
