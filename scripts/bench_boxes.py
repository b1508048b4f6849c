#!/usr/bin/env python3
"""Exactly one box answers: two or three ``satellite run`` boxes of one home hear the same
wake word, try after try, at levels that change every try.

Each box is a real process on this machine (loopback, its own state and UDP port, told of the
others by ``home.peers``) whose microphone command plays the same questions in real time, each
box at its own level for each try (the levels differ by 0, 1, 3, 6 or 12 dB, the loudest box
chosen at random; white noise at -60 dBFS under all). Every try is "Okay Nabu, what is A plus
B?" with its own numbers, so each box's log tells which tries it answered. A try counts as
right when exactly one box answered it; when one box was 3 dB or more louder than every
other, it must be that one.

    .venv/bin/python scripts/bench_boxes.py [--tries 50] [--boxes 2] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from satellite.audio import Pcm  # noqa: E402
from satellite.config import load_config  # noqa: E402
from satellite.engines import load_engines  # noqa: E402
from scripts.room import Room, spoken  # noqa: E402

DIFFERENCES_DB = (0.0, 1.0, 3.0, 6.0, 12.0)
GAP_S = 4.5
TURN = re.compile(r"turn \(mic\): '([^']*)'")
READY_TIMEOUT_S = 300.0


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * 16000), dtype=np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=50)
    parser.add_argument("--boxes", type=int, default=2, choices=(2, 3))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the boxes' logs in this directory")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    names = ["kitchen", "hall", "office"][:args.boxes]
    config = load_config(None, env={}, overrides={"log.level": "WARNING"})
    tts = load_engines(config, only=("tts",)).tts
    tries = []  # (a, b, {box: gain_db})
    tracks: dict[str, list[np.ndarray]] = {name: [silence(2.0)] for name in names}
    for i in range(args.tries):
        a, b = 11 + i, 2 + i % 7
        speech = spoken(tts, f"Okay Nabu, what is {a} plus {b}?").samples().astype(np.float32)
        loudest = rng.choice(names)
        gains = {name: 0.0 if name == loudest else -rng.choice(DIFFERENCES_DB) for name in names}
        tries.append((a, b, gains))
        for name in names:
            tracks[name] += [speech * 10 ** (gains[name] / 20), silence(GAP_S)]
    noise = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="bench-boxes-") as tmp:
        where = Path(tmp)
        ports = {name: free_udp_port() for name in names}
        go = where / "go"
        processes: dict[str, subprocess.Popen[bytes]] = {}
        logs: dict[str, Path] = {}
        for name in names:
            track = np.concatenate(tracks[name])
            track = track + noise.standard_normal(len(track)) * 32768 * 1e-3
            audio = Pcm(np.clip(track, -32768, 32767).astype(np.int16).tobytes(), 16000)
            work = where / name
            work.mkdir()
            peers = [f"127.0.0.1:{port}" for other, port in ports.items() if other != name]
            argv = [sys.executable, "-m", "satellite", "--state-dir", str(work / "state"),
                    "--set", "home.enabled=true", "--set", "home.secret=bench",
                    "--set", f"home.box={name}", "--set", "home.host=127.0.0.1",
                    "--set", f"home.port={ports[name]}", "--set", f"home.peers={peers}",
                    "--set", "home.zeroconf=false", "run", "--wake", "micro", "--output", "none",
                    "--no-wyoming", "--no-health",
                    "--mic-command", Room(work).mic_command(audio, [], go)]
            logs[name] = work / "daemon.log"
            with logs[name].open("wb") as out:
                processes[name] = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                                   env={**os.environ, "SATELLITE_CONFIG": ""})
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not all("satellite ready" in logs[n].read_text(errors="replace") for n in names):
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes.values()):
                sys.exit("a box did not get ready:\n" + "\n".join(
                    logs[n].read_text(errors="replace")[-1500:] for n in names))
            time.sleep(0.2)  # polling the logs for readiness, bounded by the deadline
        print(f"{args.boxes} boxes ready; {args.tries} tries of ~{3 + GAP_S:.0f} s ...", flush=True)
        go.write_text("go")
        for process in processes.values():
            process.wait(timeout=args.tries * 20 + 120)
        answered = {name: TURN.findall(logs[name].read_text(errors="replace")) for name in names}
        decisions = {name: sum("home: the wake word, claimed" in line
                               for line in logs[name].read_text(errors="replace").splitlines())
                     for name in names}
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for name in names:
                (args.keep / f"{name}.log").write_bytes(logs[name].read_bytes())
    right = wrong_box = none = several = 0
    for a, b, gains in tries:
        who = [name for name in names if any(str(a) in t and str(b) in t for t in answered[name])]
        ordered = sorted(gains.values(), reverse=True)
        clear = ordered[0] - ordered[1] >= 3.0
        loudest = max(gains, key=gains.__getitem__)
        if not who:
            none += 1
        elif len(who) > 1:
            several += 1
        elif clear and who[0] != loudest:
            wrong_box += 1
        else:
            right += 1
        print(f"  {a} plus {b}: levels {gains} -> answered by {who or 'nobody'}")
    report = {"machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
                         f"Python {platform.python_version()}", "load_average": os.getloadavg(),
              "boxes": args.boxes, "tries": args.tries, "exactly_one_right": right,
              "answered_by_two_or_more": several, "answered_by_none": none,
              "a_quieter_box_answered": wrong_box, "decisions": decisions,
              "turns_per_box": {name: len(turns) for name, turns in answered.items()},
              # turns no try's numbers are in: a misheard question (look it up in the log)
              "unidentified_turns": {name: [t for t in turns if not any(
                  str(a) in t and str(b) in t for a, b, _ in tries)] for name, turns in answered.items()}}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
