"""Two boxes of one home hear the same "Okay Nabu": real ``satellite run`` processes, loopback only.

Each box has its own state, its own UDP port and a microphone command that plays the same
question (at its own level, over a little noise), both started by one ``go`` file.
"""

from __future__ import annotations

import re
import socket
from contextlib import AsyncExitStack
from pathlib import Path

import numpy as np
import pytest

from satellite.audio import Pcm
from satellite.engines import Engines
from scripts.room import Room
from tests.daemon.test_faults import DaemonProcess, satellite
from tests.timeline import spoken, timeline

pytestmark = pytest.mark.slow
TIMEOUT_S = 180.0
QUESTION = "Okay Nabu, what time is it?"
TURN = re.compile(r"turn \(mic\): '([^']*)'")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def heard_at(pcm: Pcm, gain_db: float) -> Pcm:
    """``pcm`` as a microphone at ``gain_db`` hears it, over white noise at -60 dBFS (the same
    noise in every room: equal rooms hear exactly the same)."""
    samples = pcm.samples().astype(np.float32) * 10 ** (gain_db / 20)
    noise = np.random.default_rng(0).standard_normal(len(samples)) * 32768 * 1e-3
    return Pcm(np.clip(samples + noise, -32768, 32767).astype(np.int16).tobytes(), pcm.rate_hz)


async def home_of(tmp_path: Path, engines: Engines, boxes: dict[str, tuple[float, str]],
                  down: int = 0) -> dict[str, list[str]]:
    """Run one box per entry (name: (gain in dB, secret)) on the same question, each told of the
    others and of ``down`` peers nobody runs; each box's log."""
    audio = timeline(2.0, spoken(engines, QUESTION), 3.0).pcm
    ports = {name: free_udp_port() for name in boxes}
    dead = [f"127.0.0.1:{free_udp_port()}" for _ in range(down)]
    go = tmp_path / "go"
    async with AsyncExitStack() as stack:
        daemons: dict[str, DaemonProcess] = {}
        for name, (gain_db, secret) in boxes.items():
            work = tmp_path / name
            work.mkdir(parents=True)
            room = Room(work)
            peers = [f"127.0.0.1:{port}" for other, port in ports.items() if other != name] + dead
            daemons[name] = await stack.enter_async_context(satellite(
                "--state-dir", str(work / "state"),
                "--set", "home.enabled=true", "--set", f"home.secret={secret}",
                "--set", f"home.box={name}", "--set", "home.host=127.0.0.1",
                "--set", f"home.port={ports[name]}", "--set", f"home.peers={peers}",
                "--set", "home.zeroconf=false",
                "run", "--wake", "micro", "--output", "none", "--no-wyoming", "--no-health",
                "--mic-command", room.mic_command(heard_at(audio, gain_db), [], go)))
        for daemon in daemons.values():
            await daemon.wait_for("satellite ready", TIMEOUT_S)
        go.write_text("go")
        for daemon in daemons.values():
            assert await daemon.exit_code(TIMEOUT_S) == 0, daemon.log
        return {name: daemon.lines for name, daemon in daemons.items()}


def turns(lines: list[str]) -> list[str]:
    return [m.group(1) for m in map(TURN.search, lines) if m]


def story(logs: dict[str, list[str]]) -> str:
    """What each box decided and answered, for a failing assertion."""
    return "\n".join(f"{name}: {line.strip()}" for name, lines in logs.items() for line in lines
                     if "home" in line or "turn (mic)" in line or "wake word" in line)


async def test_two_boxes_hearing_the_wake_word_answer_once_the_louder(
        tmp_path: Path, engines: Engines) -> None:
    logs = await home_of(tmp_path, engines, {"kitchen": (0.0, "s3cret"), "hall": (-12.0, "s3cret")})
    assert len(turns(logs["kitchen"])) == 1 and "time" in turns(logs["kitchen"])[0].lower(), \
        story(logs)
    assert turns(logs["hall"]) == [], story(logs)
    assert any("home: the wake word, claimed to 1 peer(s): kitchen answers" in line
               for line in logs["hall"]), story(logs)


async def test_equal_boxes_answer_once_the_same_box_each_time(tmp_path: Path, engines: Engines
                                                              ) -> None:
    logs = await home_of(tmp_path, engines, {"box-a": (0.0, "s3cret"), "box-b": (0.0, "s3cret")})
    answered = [name for name, lines in logs.items() if turns(lines)]
    assert answered == ["box-a"], story(logs)
    # both claims weighed on both boxes, whichever box's Whisper check ended first (on one busy
    # machine the b-box's once ended 0.37 s before the a-box's, and it answered alone)
    assert any("box-a answers (box-b" in line for line in logs["box-b"]), story(logs)
    assert any("we answer (box-a" in line and "box-b" in line for line in logs["box-a"]), story(logs)


async def test_a_box_whose_peer_is_down_answers_alone_and_a_stranger_cannot_silence_it(
        tmp_path: Path, engines: Engines) -> None:
    logs = await home_of(tmp_path, engines, {"kitchen": (-12.0, "s3cret"), "stranger": (0.0, "guess")})
    # the stranger's louder claim is not signed with the home's secret: the kitchen answers
    assert len(turns(logs["kitchen"])) == 1, story(logs)
    assert any("rejected (signature)" in line for line in logs["kitchen"]), story(logs)
    alone = await home_of(tmp_path / "alone", engines, {"kitchen": (0.0, "s3cret")}, down=1)
    assert len(turns(alone["kitchen"])) == 1, story(alone)
    assert any("claimed to 1 peer(s): we answer" in line for line in alone["kitchen"])
