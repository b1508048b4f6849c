"""Two rooms of one home as real ``satellite run`` processes, loopback only: the kitchen sets a
timer and announces dinner; the living room hears the announcement out loud, then asks about
the kitchen's timer and cancels it."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from satellite.audio.wav import read_wav
from satellite.engines import Engines
from scripts.room import Room
from tests.daemon.test_faults import DaemonProcess, satellite
from tests.home.test_two_boxes import free_udp_port, heard_at
from tests.timeline import spoken, timeline

pytestmark = pytest.mark.slow
TIMEOUT_S = 180.0
REPLY = re.compile(r"turn \(mic\): '([^']*)' -> '([^']*)'")


def replies(lines: list[str]) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in map(REPLY.search, lines) if m]


async def test_an_announcement_and_a_timer_across_two_rooms(tmp_path: Path, engines: Engines
                                                            ) -> None:
    say = {text: spoken(engines, text) for text in (
        "Okay Nabu, set a timer for ten minutes.", "Okay Nabu, announce dinner is ready.",
        "Okay Nabu, how much time is left on the kitchen timer?",
        "Okay Nabu, cancel the kitchen timer.")}
    texts = list(say)
    # both rooms' microphones run 30 s from one "go"; each hears only its own person
    kitchen_mic = timeline(2.0, say[texts[0]], 5.0, say[texts[1]]).pcm
    living_mic = timeline(15.0, say[texts[2]], 5.0, say[texts[3]]).pcm
    total_s = 30.0
    mics = {room: heard_at(timeline(pcm, total_s - pcm.seconds).pcm, 0.0)
            for room, pcm in (("kitchen", kitchen_mic), ("living room", living_mic))}
    ports = {room: free_udp_port() for room in mics}
    go = tmp_path / "go"
    async with AsyncExitStack() as stack:
        daemons: dict[str, DaemonProcess] = {}
        for room, audio in mics.items():
            work = tmp_path / room.replace(" ", "-")
            work.mkdir()
            peers = [f"127.0.0.1:{port}" for other, port in ports.items() if other != room]
            daemons[room] = await stack.enter_async_context(satellite(
                "--state-dir", str(work / "state"),
                "--set", "home.enabled=true", "--set", "home.secret=s3cret",
                "--set", f"home.box={room.replace(' ', '-')}", "--set", f"home.room={room}",
                "--set", "home.host=127.0.0.1", "--set", f"home.port={ports[room]}",
                "--set", f"home.peers={peers}", "--set", "home.zeroconf=false",
                "run", "--wake", "micro", "--output-dir", str(work / "out"), "--no-wyoming",
                "--no-health", "--mic-command", Room(work).mic_command(audio, [], go)))
        for daemon in daemons.values():
            await daemon.wait_for("satellite ready", TIMEOUT_S)
        go.write_text("go")
        for daemon in daemons.values():
            assert await daemon.exit_code(TIMEOUT_S) == 0, daemon.log
    kitchen, living = (daemons[room].lines for room in ("kitchen", "living room"))
    story = "\n".join(f"{room}: {line.strip()}" for room, d in daemons.items() for line in d.lines
                      if "home" in line or "turn (mic)" in line or "announcement" in line)

    kitchen_said = [reply for _, reply in replies(kitchen)]
    assert len(kitchen_said) == 2, story
    assert kitchen_said[0] == "Timer set for 10 minutes.", story
    assert kitchen_said[1] == "Announced in the living room.", story

    assert any("announcement said: 'From the kitchen: Dinner is ready'" in line
               for line in living), story
    heard_out_loud = [engines.stt.transcribe(read_wav(path), None).text.lower()
                      for path in sorted((tmp_path / "living-room" / "out").glob("reply-*.wav"))]
    # (Whisper hears Piper's "Dinner" as "the inner" now and then: the words around it decide)
    assert any("from the kitchen" in text and "is ready" in text
               for text in heard_out_loud), heard_out_loud

    living_said = [reply for _, reply in replies(living)]
    assert len(living_said) == 2, story
    assert re.match(r"In the kitchen: Your timer has (9|8) minutes", living_said[0]), story
    assert living_said[1] == "In the kitchen: Cancelled the 10 minute timer.", story
    assert any("home: HassCancelTimer from another room: 'Cancelled the 10 minute timer.'" in line
               for line in kitchen), story
