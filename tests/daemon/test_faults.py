"""The daemon as a box in a closet meets it: signals mid-request, kill -9, hung and clockless devices.

Each test runs ``satellite`` as a real process (or the daemon in-process where the
engines can be shared) and asserts what a user or an operator would see: the exit
code and how long the stop took, the answers a client received, the log lines.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.handle import Handled
from wyoming.tts import Synthesize

from satellite.config import load_config
from satellite.config.paths import default_llm_model
from satellite.daemon.app import SatelliteDaemon
from satellite.engines import Engines
from satellite.pipeline.cache import ResponseCache
from satellite.pipeline.store import open_state_db
from tests.conftest import REPO, make_config
from tests.timeline import spoken, timeline

pytestmark = pytest.mark.slow
TIMEOUT_S = 120.0
SHUTDOWN_BOUND_S = 15.0  # daemon.shutdown_timeout_s, the default
WYOMING_AT = re.compile(r"Wyoming server listening on tcp://127\.0\.0\.1:(\d+)")


class DaemonProcess:
    """``python -m satellite ARGS`` with its log read as it comes."""

    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process
        self.lines: list[str] = []
        self._new_line = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.lines.append(line.decode(errors="replace"))
            self._new_line.set()

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def wait_for(self, pattern: str | re.Pattern[str], timeout: float = TIMEOUT_S
                       ) -> re.Match[str]:
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        async with asyncio.timeout(timeout):
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    if match := regex.search(line):
                        return match
                seen = len(self.lines)
                assert self.process.returncode is None or not self._reader.done(), \
                    f"daemon exited before {regex.pattern!r}:\n{self.log}"
                self._new_line.clear()
                await self._new_line.wait()

    async def exit_code(self, timeout: float) -> int:
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await asyncio.wait_for(self._reader, 10)
        return code


@asynccontextmanager
async def satellite(*args: str, home: Path | None = None) -> AsyncIterator[DaemonProcess]:
    env = {**os.environ, "SATELLITE_CONFIG": ""}
    if home is not None:
        env["HOME"] = str(home)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "satellite", *args, cwd=REPO, env=env,
        stdin=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    daemon = DaemonProcess(process)
    try:
        yield daemon
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def handle(port: int, text: str) -> list[Event]:
    """Ask the conversation agent; the events until ``handled`` (or the connection ends)."""
    client = AsyncTcpClient("127.0.0.1", port)
    await asyncio.wait_for(client.connect(), 10)
    events: list[Event] = []
    try:
        await client.write_event(Event("transcript", {"text": text}))
        async with asyncio.timeout(TIMEOUT_S):
            while (event := await client.read_event()) is not None:
                events.append(event)
                if Handled.is_type(event.type) or event.type == "error":
                    break
    finally:
        await asyncio.wait_for(client.disconnect(), 10)
    return events


async def synthesize_all(port: int, text: str) -> list[str]:
    """A long synthesis read to its end, or until the server closes the connection."""
    client = AsyncTcpClient("127.0.0.1", port)
    await asyncio.wait_for(client.connect(), 10)
    types: list[str] = []
    try:
        await client.write_event(Synthesize(text=text).event())
        async with asyncio.timeout(TIMEOUT_S):
            while (event := await client.read_event()) is not None:
                types.append(event.type)
                if event.type in ("audio-stop", "error"):
                    break
    finally:
        await asyncio.wait_for(client.disconnect(), 10)
    return types


def cached_reply(state_dir: Path, question: str) -> str | None:
    """What the daemon's cache holds for ``question`` (the default model's answers)."""
    config = make_config(state_dir.parent, state_dir=str(state_dir))
    model = default_llm_model()
    identity = f"{model.name}:{model.stat().st_size}"  # as LlamaCppLlm.identity
    conn = open_state_db(state_dir)
    try:
        hit = ResponseCache(conn, config.cache, identity, config.llm.system_prompt).get(question)
    finally:
        if conn is not None:
            conn.close()
    return hit.reply if hit is not None else None


async def test_sigterm_with_requests_in_flight_exits_in_time_and_keeps_every_answer_given(
        tmp_path: Path, engines: Engines) -> None:
    state_dir = tmp_path / "state"
    question = spoken(engines, "Tell me a long story about a dragon and a castle.")
    wav = timeline(0.5, question, 2.0).write(tmp_path / "story.wav")
    async with satellite("--state-dir", str(state_dir), "--set", "audio.turn_grace_s=1", "run",
                         "--input-file", str(wav), "--output-dir", str(tmp_path / "replies"),
                         "--uri", "tcp://127.0.0.1:0", "--satellite-uri", "tcp://127.0.0.1:0",
                         "--no-health", "--no-zeroconf",
                         "--keep-serving") as daemon:
        port = int((await daemon.wait_for(WYOMING_AT)).group(1))
        await daemon.wait_for("satellite ready")
        answered = await handle(port, "Why is the sky blue?")  # acknowledged before the signal
        assert answered[-1].type == "handled", answered
        in_flight = [asyncio.create_task(handle(port, "Tell me a long story about a knight.")),
                     asyncio.create_task(synthesize_all(port, "The sea is wide. " * 40))]
        await asyncio.sleep(0.3)
        daemon.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = await daemon.exit_code(SHUTDOWN_BOUND_S + 10)
        took_s = time.monotonic() - started
        outcomes = await asyncio.wait_for(asyncio.gather(*in_flight, return_exceptions=True), 30)
    assert code == 0, daemon.log
    assert took_s < SHUTDOWN_BOUND_S, f"stopped in {took_s:.1f} s:\n{daemon.log}"
    assert "SIGTERM received" in daemon.log and "stopped in" in daemon.log
    for outcome in outcomes:  # each request either completed or saw its connection end
        assert not isinstance(outcome, TimeoutError), daemon.log
    reply = Handled.from_event(answered[-1]).text
    assert reply and cached_reply(state_dir, "Why is the sky blue?") == reply
    knight = outcomes[0]
    if isinstance(knight, list) and knight and knight[-1].type == "handled":
        assert cached_reply(state_dir, "Tell me a long story about a knight.") == \
            Handled.from_event(knight[-1]).text


async def test_kill_9_right_after_an_answer_then_restart_it_is_a_cache_hit(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    args = ("--state-dir", str(state_dir), "serve", "--uri", "tcp://127.0.0.1:0", "--no-health",
            "--no-zeroconf")
    async with satellite(*args) as first:
        port = int((await first.wait_for(WYOMING_AT)).group(1))
        events = await handle(port, "What is the largest ocean on Earth?")
        first.process.kill()  # the moment the client has the answer
        await first.exit_code(10)
    assert events[-1].type == "handled"
    reply = Handled.from_event(events[-1]).text
    async with satellite(*args) as second:
        port = int((await second.wait_for(WYOMING_AT)).group(1))
        again = await handle(port, "What is the largest ocean on Earth?")
        line = await second.wait_for(r"turn \(wyoming\): .*\((\w+)\)")
        second.process.send_signal(signal.SIGTERM)
        assert await second.exit_code(SHUTDOWN_BOUND_S + 10) == 0
    assert Handled.from_event(again[-1]).text == reply
    assert line.group(1) == "cache", second.log


CLOCKLESS_MIC = """
    pcm.!default { type asym playback.pcm "nullout" capture.pcm "floodin" }
    pcm.nullout { type null }
    pcm.nullin { type null }
    pcm.floodin { type file slave.pcm "nullin" file "/dev/null" format "raw" }
"""


async def test_a_microphone_with_no_clock_is_reported_and_sigterm_still_stops_the_daemon(
        tmp_path: Path) -> None:
    """The issue as seen: a capture device that delivers frames with no clock (ALSA file over
    null) spun the CPU, starved the LLM, and SIGTERM never ended the process."""
    (tmp_path / ".asoundrc").write_text(textwrap.dedent(CLOCKLESS_MIC))
    async with satellite("--state-dir", str(tmp_path / "state"), "run", "--wake", "none",
                         "--output", "none", "--no-wyoming", "--no-health",
                         home=tmp_path) as daemon:
        await daemon.wait_for("satellite ready")
        await daemon.wait_for(r"real time \(no clock\?\); pacing it")
        await asyncio.sleep(2.0)  # it keeps running on it
        assert daemon.process.returncode is None
        daemon.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = await daemon.exit_code(SHUTDOWN_BOUND_S + 10)
        took_s = time.monotonic() - started
    assert code == 0, daemon.log
    assert took_s < 5.0, f"stopped in {took_s:.1f} s:\n{daemon.log}"
    assert "SIGTERM received" in daemon.log


async def test_a_hung_speaker_command_fails_the_reply_in_time_and_the_room_goes_on(
        tmp_path: Path, engines: Engines, caplog: pytest.LogCaptureFixture) -> None:
    """The player never reads: the reply fails within its length and a second, the speaker is
    degraded on /status, and the daemon ends at the end of its input. (The second question is
    said while the box believes it speaks: speech over a reply without the wake word is only
    checked for a stop word.) Once, in a fresh-clone run, the speaker ended "ready": the
    assertion carries the daemon's log to tell why if it comes back."""
    caplog.set_level(logging.INFO, "satellite")
    raw_in = tmp_path / "in.raw"
    raw_in.write_bytes(timeline(0.5, spoken(engines, "Turn off the bedroom lamp."), 1.5,
                                spoken(engines, "What time is it?"), 1.0).pcm.audio)
    config = make_config(tmp_path, wyoming__enabled=False, health__enabled=False,
                         audio__input="command", audio__mic_command=f"cat {raw_in}",
                         audio__output="command", audio__snd_command="sh -c 'sleep 600'",
                         audio__output_timeout_s=1.0)
    daemon = SatelliteDaemon(config, engines=engines)
    async with asyncio.timeout(TIMEOUT_S):
        assert await daemon.serve() == 0  # the mic command ends: end of input
    speaker = daemon.state.components["speaker"]
    log = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in caplog.records
           if r.levelno >= logging.INFO and r.name.startswith("satellite.")]
    assert speaker.state == "degraded" and "did not" in speaker.detail, log
    failures = daemon.state.metrics.errors.labels(kind="audio_output")._value.get()
    assert failures >= 2, log  # the failed reply, counted by the speaker and by its turn


async def test_sighup_rereads_the_yaml_file_and_changes_the_segmenter(
        tmp_path: Path, engines: Engines, caplog: pytest.LogCaptureFixture) -> None:
    wav = timeline(10.0).write(tmp_path / "silence.wav")
    config_file = tmp_path / "satellite.yaml"
    base = (f"state_dir: {tmp_path / 'state'}\nwyoming: {{enabled: false}}\n"
            f"health: {{enabled: false}}\naudio: {{input: file, input_file: {wav}, "
            f"output: none, exit_at_end: false}}\n")
    config_file.write_text(base + "vad: {hangover_ms: 300}\n")
    daemon = SatelliteDaemon(load_config(config_file, env={}), engines=engines,
                             reload_config=lambda: load_config(config_file, env={}))
    task = asyncio.create_task(daemon.serve())
    async with asyncio.timeout(TIMEOUT_S):
        await daemon.started.wait()
    assert daemon.listener is not None
    segmenter = daemon.listener.frontend.segmenter
    frames_before = segmenter._hangover_frames  # noqa: SLF001 - what the segmenter really uses
    config_file.write_text(base + "vad: {hangover_ms: 900}\nllm: {n_ctx: 4096}\n")
    os.kill(os.getpid(), signal.SIGHUP)
    async with asyncio.timeout(TIMEOUT_S):
        while segmenter._hangover_frames == frames_before:  # noqa: SLF001
            await asyncio.sleep(0.02)
    assert segmenter._hangover_frames == 30  # noqa: SLF001 - 900 ms of 30 ms frames
    assert daemon.config.llm.n_ctx == 2048  # needs a restart: not applied, and said so
    assert any("llm.n_ctx" in r.getMessage() and "restart" in r.getMessage()
               for r in caplog.records if r.levelname == "WARNING")
    daemon.should_exit.set()
    async with asyncio.timeout(TIMEOUT_S):
        assert await task == 0
