"""An engine whose first inference really dies with SIGSEGV on this machine: the box says so in
one line, serves what it can, and does not probe again until the CPU, a package or the model
changes.

The crash is real: a ``sitecustomize`` on PYTHONPATH makes Whisper's ``transcribe`` read
address 0 in every process of the test (the probe's children and the daemon alike).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from wyoming.asr import Transcribe
from wyoming.audio import AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe, Info

from satellite.config.paths import default_stt_model
from tests.conftest import REPO
from tests.daemon.test_faults import WYOMING_AT, satellite, synthesize_all

pytestmark = pytest.mark.slow
HEALTH_AT = re.compile(r"health endpoint on (http://127\.0\.0\.1:\d+/)")
CRASHING_STT = '''
import ctypes

import satellite.engines.stt as stt


def transcribe(self, pcm, hint=None, alternatives=0):
    ctypes.string_at(0)  # a real segmentation fault


stt.WhisperStt.transcribe = transcribe
'''


@pytest.fixture
def crashing_stt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(CRASHING_STT)
    monkeypatch.setenv("PYTHONPATH", str(folder))
    monkeypatch.delenv("SATELLITE__ENGINES__VERDICTS_FILE", raising=False)
    return folder


async def ask_wyoming(port: int, *events: Event) -> Event:
    """Send ``events``; the first answer (or None at a closed connection)."""
    client = AsyncTcpClient("127.0.0.1", port)
    await asyncio.wait_for(client.connect(), 10)
    try:
        for event in events:
            await client.write_event(event)
        answer = await asyncio.wait_for(client.read_event(), 60)
        assert answer is not None
        return answer
    finally:
        await asyncio.wait_for(client.disconnect(), 10)


async def get(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        async with session.get(url) as response:
            return response.status, await response.json()


async def test_a_crashing_engine_is_one_line_and_the_rest_still_serves(
        tmp_path: Path, crashing_stt: Path) -> None:
    state = tmp_path / "state"
    args = ("--state-dir", str(state), "serve", "--uri", "tcp://127.0.0.1:0", "--health-port", "0",
            "--no-zeroconf")
    async with satellite(*args) as daemon:
        health = (await daemon.wait_for(HEALTH_AT)).group(1)
        port = int((await daemon.wait_for(WYOMING_AT)).group(1))
        await daemon.wait_for("satellite ready")
        broken = [line for line in daemon.lines if "stt engine is broken on this machine" in line]
        assert len(broken) == 1, daemon.log  # one line, naming the signal, the model and the CPU
        assert "SIGSEGV" in broken[0] and "model whisper-base;" in broken[0]
        assert "ctranslate2" in broken[0] and "CPU " in broken[0]

        status, ready = await get(health + "readyz")
        assert status == 503 and len(ready["reasons"]) == 1
        reason = ready["reasons"][0]
        assert reason.startswith("stt: failed (stt engine is broken") and "SIGSEGV" in reason
        _, document = await get(health + "status")
        assert document["platform"]["engines"]["stt"]["runs"] == "broken"
        assert document["platform"]["cpu"]["cores"] >= 1

        info = Info.from_event(await ask_wyoming(port, Describe().event()))
        assert info.asr == [] and info.tts and info.handle  # only what works is advertised
        assert (await synthesize_all(port, "The voice still works."))[-1] == "audio-stop"
        refused = await ask_wyoming(port, Transcribe().event(), AudioStart(16000, 2, 1).event(),
                                    AudioStop().event())
        assert refused.type == "error" and refused.data["code"] == "engine-broken", refused

        daemon.process.send_signal(signal.SIGTERM)
        assert await daemon.exit_code(30) == 0

    check = subprocess.run([sys.executable, "-m", "satellite", "--state-dir", str(state), "check"],
                           cwd=REPO, capture_output=True, text=True, timeout=300)
    assert check.returncode == 1, check.stdout + check.stderr
    row = next(line for line in check.stdout.splitlines() if line.startswith("stt "))
    assert "BROKEN" in row and "SIGSEGV" in row and "stt engine is broken on this machine" in row

    async with satellite(*args) as again:  # the verdict is kept: no probe on the next start
        await again.wait_for("satellite ready")
        assert "verdict kept from an earlier probe" in again.log
        assert "probing its first inference" not in again.log, again.log
        again.process.send_signal(signal.SIGTERM)
        assert await again.exit_code(30) == 0

    model = tmp_path / "whisper"  # another model file: probed again
    shutil.copytree(default_stt_model(), model)
    async with satellite(*args[:2], "--stt-model", str(model), *args[2:]) as moved:
        await moved.wait_for("satellite ready")
        assert "stt: probing its first inference" in moved.log
        assert "llm: probing" not in moved.log and "tts: probing" not in moved.log  # those are known
        moved.process.send_signal(signal.SIGTERM)
        assert await moved.exit_code(30) == 0
    verdicts = json.loads((state / "engine-verdicts.json").read_text())
    assert sorted(v["state"] for v in verdicts.values() if v["stage"] == "stt") == ["broken", "broken"]


CRASHING_WAKE = '''
import ctypes

import satellite.engines.wake as wake

real_process = wake.MicroWakeWordDetector.process


def process(self, audio, stream_s):
    if self.runtime in RUNTIMES_THAT_CRASH:
        ctypes.string_at(0)  # a real segmentation fault
    return real_process(self, audio, stream_s)


wake.MicroWakeWordDetector.process = process
'''


@pytest.mark.parametrize("crashing", [("pymicro",), ("pymicro", "litert")])
async def test_a_crashing_wake_word_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            crashing: tuple[str, ...]) -> None:
    """pymicro-wakeword's bundled TensorFlow Lite dies: the room listens with the same model on
    LiteRT. Both die: the room does not listen (the mic says why), and the rest serves."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(f"RUNTIMES_THAT_CRASH = {crashing!r}\n{CRASHING_WAKE}")
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.delenv("SATELLITE__ENGINES__VERDICTS_FILE", raising=False)
    args = ("--state-dir", str(tmp_path / "state"), "run", "--wake", "micro", "--input", "command",
            "--mic-command", "sleep 60", "--output", "none", "--uri", "tcp://127.0.0.1:0",
            "--satellite-mode", "local", "--health-port", "0", "--no-zeroconf")
    async with satellite(*args) as daemon:
        health = (await daemon.wait_for(HEALTH_AT)).group(1)
        port = int((await daemon.wait_for(WYOMING_AT)).group(1))
        await daemon.wait_for("satellite ready")
        assert "wake engine died in its first inference: SIGSEGV" in daemon.log
        _, document = await get(health + "status")
        mic = next(c for c in document["components"] if c["name"] == "mic")
        if crashing == ("pymicro",):
            assert "microWakeWord okay_nabu runs on litert" in daemon.log
            assert document["platform"]["engines"]["wake"]["runtime"] == "litert"
            assert mic["state"] != "failed", mic
        else:
            assert mic["state"] == "failed" and mic["detail"].startswith("no wake word: wake engine is "
                                                                         "broken on this machine")
            assert "runs on" not in daemon.log  # no detector was made in the daemon
            assert (await synthesize_all(port, "The voice still works."))[-1] == "audio-stop"
        daemon.process.send_signal(signal.SIGTERM)
        assert await daemon.exit_code(30) == 0
