#!/usr/bin/env python3
"""A home command as the person in the room meets it: last voiced frame → first reply audio.

``satellite run`` (default configuration: the wake word on) listens to a microphone
command that plays spoken commands in real time, 20 ms at a time, and writes the
wall-clock time at which the last voiced sample of each command left it. The speaker
command (one process per reply) writes the wall-clock time at which the first byte of
each reply reached it. Both clocks are outside the daemon.

Two rooms, the same sentences ("Okay Nabu, turn on/off the kitchen lights"):
- with the real Home Assistant (the test harness's, demo config): the command goes to
  Home Assistant's conversation agent over the WebSocket API, which switches the light;
- without Home Assistant: the same sentence is answered on the box by the intent path
  (a true "not connected" answer), which shows what the Home Assistant round trip adds.

    .venv/bin/python scripts/bench_home.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from satellite.audio import Pcm  # noqa: E402
from satellite.config import load_config  # noqa: E402
from satellite.engines.tts import PiperTts  # noqa: E402
from scripts.room import Room, last_voiced_byte, spoken  # noqa: E402
from tests.homeassistant.harness import HomeAssistant, ensure_venv  # noqa: E402

SENTENCES = ["Okay Nabu, turn on the kitchen lights.", "Okay Nabu, turn off the kitchen lights."]
GAP_S = 7.0  # silence after each command: the reply is over long before the next one

def room_audio(tts: PiperTts, rounds: int) -> tuple[Pcm, list[tuple[int, str]]]:
    audio, marks = Pcm.silence(1.0), []
    for n in range(rounds):
        command = spoken(tts, SENTENCES[n % len(SENTENCES)])
        marks.append((len(audio.audio) + last_voiced_byte(command), "command"))
        audio = audio + command + Pcm.silence(GAP_S)
    return audio, marks


def run_room(work: Path, audio: Pcm, marks: list[tuple[int, str]], config_text: str
             ) -> tuple[list[float], str]:
    work.mkdir(parents=True, exist_ok=True)
    room = Room(work)
    (work / "satellite.yaml").write_text(config_text + "audio:\n  chimes: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATELLITE")}
    done = subprocess.run(
        [sys.executable, "-m", "satellite", "--config", str(work / "satellite.yaml"), "--state-dir",
         str(work / "state"), "run", "--mic-command", room.mic_command(audio, marks),
         "--snd-command", room.speaker_command(), "--snd-rate", "16000",
         "--no-wyoming", "--no-health"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    said = [t for _, t in room.marks()]
    replies = room.replies()
    gaps = []
    for t in said:  # each command's reply: the first reply audio after its last voiced frame
        after = [r for r in replies if r > t]
        if after and after[0] - t < GAP_S:
            gaps.append((after[0] - t) * 1000.0)
    return gaps, done.stderr


def stats(values: list[float]) -> str:
    if not values:
        return "– | –"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):.0f} ms | {p95:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    tts = PiperTts(load_config(None, env={}).tts)
    audio, marks = room_audio(tts, args.rounds)
    with tempfile.TemporaryDirectory(prefix="bench-home-") as tmp:
        work = Path(tmp)
        ha = HomeAssistant(ensure_venv(), work / "ha")
        ha.start()
        try:
            token = work / "token"
            token.write_text(ha.token)
            with_ha, log = run_room(work / "with-ha", audio, marks,
                                    f"homeassistant:\n  url: {ha.url}\n  token_file: {token}\n")
            sources = log.count("(homeassistant)")
            (Path("/tmp/bench_home_ha.log")).write_text(log)
        finally:
            ha.stop()
        without_ha, log_local = run_room(work / "local", audio, marks, "")
        Path("/tmp/bench_home_local.log").write_text(log_local)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"command: scripts/bench_home.py --rounds {args.rounds}")
    print(f"{args.rounds} spoken commands each, paced in real time, wake word on (okay_nabu)\n")
    print("| room | answered by | replies | last voiced frame → first reply audio p50 | p95 |")
    print("|---|---|---|---|---|")
    print(f"| with Home Assistant 2024.3.3 (demo) | Home Assistant ({sources} of {args.rounds}) | "
          f"{len(with_ha)} | {stats(with_ha)} |")
    print(f"| without Home Assistant | the box (intent path, \"not connected\") | {len(without_ha)} | "
          f"{stats(without_ha)} |")


if __name__ == "__main__":
    main()
