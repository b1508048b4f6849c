"""The daemon process: lifecycle, signals, no microphone, serve, reload, the doors it starts."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import sqlite3
import sys
import urllib.request
from pathlib import Path

import pytest

from satellite.config import Config
from satellite.daemon.app import SatelliteDaemon, config_changes
from satellite.engines import Engines
from satellite.pipeline.cache import ResponseCache
from satellite.pipeline.home import NOT_CONNECTED_ACTION
from satellite.pipeline.store import DB_NAME, open_state_db
from tests.conftest import REPO, make_config
from tests.timeline import dev_clip, spoken, timeline

pytestmark = pytest.mark.slow
TIMEOUT_S = 120.0


async def run_until_started(daemon: SatelliteDaemon) -> asyncio.Task[int]:
    task = asyncio.create_task(daemon.serve())
    started = asyncio.create_task(daemon.started.wait())
    async with asyncio.timeout(TIMEOUT_S):
        await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # raises what went wrong
    return task


async def stop(daemon: SatelliteDaemon, task: asyncio.Task[int]) -> int:
    daemon.should_exit.set()
    async with asyncio.timeout(TIMEOUT_S):
        return await task


def quiet(tmp_path: Path, **overrides: object) -> Config:
    values: dict[str, object] = {"wyoming__enabled": False, "health__enabled": False}
    values.update(overrides)
    return make_config(tmp_path, **values)


async def test_no_microphone_is_not_a_crash(tmp_path: Path, engines: Engines,
                                            caplog: pytest.LogCaptureFixture) -> None:
    config = quiet(tmp_path, audio__input="mic", audio__input_device="no such microphone",
                   audio__output="speaker", audio__output_device="no such speaker")
    daemon = SatelliteDaemon(config, engines=engines)
    task = await run_until_started(daemon)
    async with asyncio.timeout(TIMEOUT_S):
        while daemon.state.components["mic"].state == "starting":
            await asyncio.sleep(0.02)
    mic = daemon.state.components["mic"]
    assert mic.state == "failed" and mic.detail
    assert daemon.state.components["speaker"].state == "failed"
    assert all(daemon.state.components[s].state == "ready" for s in ("stt", "llm", "tts"))
    assert not task.done()  # still serving
    assert await stop(daemon, task) == 0
    warnings = [r for r in caplog.records if r.name == "satellite.daemon.capture"
                and r.levelname == "WARNING"]
    assert len(warnings) == 1  # said once, not at every retry


async def test_serve_has_no_audio_and_is_ready(tmp_path: Path, engines: Engines) -> None:
    daemon = SatelliteDaemon(quiet(tmp_path), engines=engines, audio=False)
    task = await run_until_started(daemon)
    assert daemon.state.components["mic"].state == "off"
    assert daemon.state.components["speaker"].state == "off"
    assert daemon.state.ready() == (True, [])
    assert daemon.listener is None
    assert await stop(daemon, task) == 0


async def test_wyoming_and_health_doors_start_and_stop(tmp_path: Path, engines: Engines) -> None:
    config = make_config(tmp_path, wyoming__uri="tcp://127.0.0.1:0", wyoming__zeroconf=False,
                         health__port=0, audio__input="none", audio__output="none")
    daemon = SatelliteDaemon(config, engines=engines)
    task = await run_until_started(daemon)
    assert daemon.wyoming.port and daemon.health.port
    url = f"http://127.0.0.1:{daemon.health.port}/readyz"
    status = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).status)
    assert status == 200
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", daemon.wyoming.port), 10)
    writer.write(json.dumps({"type": "describe"}).encode() + b"\n")
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), 10)
    assert json.loads(line)["type"] == "info"
    writer.close()
    assert await stop(daemon, task) == 0
    with pytest.raises(OSError):
        await asyncio.wait_for(asyncio.open_connection("127.0.0.1", daemon.wyoming.port), 10)


def test_config_changes_split_live_from_restart(tmp_path: Path) -> None:
    old = quiet(tmp_path)
    new = dataclasses.replace(old, vad=dataclasses.replace(old.vad, hangover_ms=600),
                              stt=dataclasses.replace(old.stt, model="/elsewhere"))
    assert config_changes(old, new) == (["vad.hangover_ms"], ["stt.model"])


async def test_sigterm_during_a_turn_exits_cleanly_with_the_cache_intact(
        tmp_path: Path, engines: Engines) -> None:
    config = quiet(tmp_path)
    state_dir = Path(config.state_dir)
    conn = open_state_db(state_dir)
    ResponseCache(conn, config.cache, engines.llm.identity, config.llm.system_prompt).put(
        "what is the capital of france", "Paris.")
    assert conn is not None
    conn.close()
    question = spoken(engines, "Tell me a long story about a dragon and a castle.")
    wav = timeline(0.5, question, 3.0).write(tmp_path / "story.wav")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "satellite", "--state-dir", str(state_dir), "--log-level", "DEBUG",
        "--set", "audio.turn_grace_s=0.5", "run", "--wake", "none", "--input-file", str(wav),
        "--output-dir", str(tmp_path / "replies"), "--no-wyoming", "--no-health",
        cwd=REPO, stderr=asyncio.subprocess.PIPE, env={**os.environ, "SATELLITE_CONFIG": ""})
    assert process.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(TIMEOUT_S):
            while True:
                line = (await process.stderr.readline()).decode()
                assert line, "daemon exited early:\n" + "".join(lines)
                lines.append(line)
                if "turn started" in line:
                    break
            process.send_signal(signal.SIGTERM)
            rest = (await process.stderr.read()).decode()
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
    assert code == 0, "".join(lines) + rest
    assert "SIGTERM received" in rest and "stopped" in rest
    db = sqlite3.connect(state_dir / DB_NAME)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()
    conn = open_state_db(state_dir)
    hit = ResponseCache(conn, config.cache, engines.llm.identity,
                        config.llm.system_prompt).get("what is the capital of france")
    assert hit is not None and hit.reply == "Paris."


async def test_mic_and_snd_commands_end_to_end(tmp_path: Path, engines: Engines) -> None:
    raw_in = tmp_path / "in.raw"
    raw_in.write_bytes(timeline(0.5, dev_clip("syn_05a.wav"), 1.0).pcm.audio)
    raw_out = tmp_path / "out.raw"
    config = quiet(tmp_path, audio__input="command", audio__mic_command=f"cat {raw_in}",
                   audio__output="command", audio__snd_command=f"sh -c 'cat >> {raw_out}'",
                   audio__snd_rate_hz=16000, audio__input_realtime=False)
    daemon = SatelliteDaemon(config, engines=engines)
    async with asyncio.timeout(TIMEOUT_S):
        assert await daemon.serve() == 0  # the mic command ends: end of input, exit_at_end
    assert daemon.exit_reason == "end of input"
    (turn,) = daemon.state.turns
    assert "bedroom" in turn.transcript.lower()
    assert turn.reply == NOT_CONNECTED_ACTION  # no Home Assistant here: nothing claimed
    assert raw_out.stat().st_size > 16000 * 2 * 0.5  # more than half a second of reply at 16 kHz
    assert daemon.state.components["speaker"].state == "ready"
