#!/usr/bin/env python3
"""Wake word → first answer audio for a home command: the box as HA's satellite vs answering itself.

One real Home Assistant core (2024.3.3, the test harness: its own venv, the demo, onboarded over
HTTP) and one box on the same machine. The same spoken audio ("Okay Nabu." then "turn on/off the
kitchen lights.") is played, paced in real time by a microphone command, into ``satellite run``:

- ``local``: ``assist_satellite.mode: local``; the box transcribes, recognizes the home command
  and sends the text to HA's conversation API; the box speaks HA's answer (issue #6's path).
- ``satellite``: ``assist_satellite.mode: satellite``; HA runs the box as its Assist satellite
  (added by config flow, with a pipeline on the box's own Whisper and Piper); after the wake word
  the box streams the microphone to HA's pipeline, which detects the end of speech with its own
  VAD, transcribes (with the box's provider), acts, synthesizes (with the box's provider) and
  sends the audio back to be played.

Both clocks are outside the daemon: the microphone command notes the wall time at which the end
of the wake word and the last voiced sample of the command left it; the speaker command notes the
wall time of each reply's first byte.

    .venv/bin/python scripts/bench_satellite.py [--turns 6] [--gap-s 10] [--modes local,satellite]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from satellite.audio import Pcm  # noqa: E402
from satellite.config import load_config  # noqa: E402
from satellite.engines.tts import PiperTts  # noqa: E402
from scripts.room import Room, last_voiced_byte, spoken  # noqa: E402
from tests.homeassistant.harness import HomeAssistant, ensure_venv, free_loopback_port  # noqa: E402
from tests.homeassistant.install import EXTRAS  # noqa: E402


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait(what: str, check, timeout_s: float, process: subprocess.Popen) -> object:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"satellite exited waiting for {what}")
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit(f"no {what} within {timeout_s:.0f} s")


def satellite_running(health: str) -> bool:
    try:
        with urllib.request.urlopen(f"{health}/status", timeout=5.0) as answer:
            return bool((json.loads(answer.read()).get("assist_satellite") or {}).get("running"))
    except (urllib.error.URLError, OSError):
        return False


def add_box_to_home_assistant(ha: HomeAssistant, provider_port: int, satellite_port: int,
                              tts_language: str) -> None:
    ha.config_flow("wyoming", {"host": "127.0.0.1", "port": provider_port})
    ha.config_flow("wyoming", {"host": "127.0.0.1", "port": satellite_port})
    entities = ha.ws({"type": "config/entity_registry/list"})[0]
    ours = [e["entity_id"] for e in entities if e["platform"] == "wyoming"]
    stt = next(e for e in ours if e.startswith("stt."))
    tts = next(e for e in ours if e.startswith("tts."))
    pipeline = ha.ws({"type": "assist_pipeline/pipeline/create", "name": "Sarai", "language": "en",
                      "conversation_engine": "homeassistant", "conversation_language": "en",
                      "stt_engine": stt, "stt_language": "en", "tts_engine": tts,
                      "tts_language": tts_language, "tts_voice": None, "wake_word_entity": None,
                      "wake_word_id": None})[0]
    ha.ws({"type": "assist_pipeline/pipeline/set_preferred", "pipeline_id": pipeline["id"]})


def run_mode(mode: str, ha: HomeAssistant, work: Path, audio: Pcm, marks: list, rate_hz: int,
             ports: tuple[int, int, int], tts_language: str, first_satellite: bool) -> dict:
    provider_port, satellite_port, health_port = ports
    run_dir = work / mode
    run_dir.mkdir()
    room, go = Room(run_dir), run_dir / "GO"
    token = run_dir / "token"
    token.write_text(ha.token)
    config = run_dir / "satellite.yaml"
    config.write_text(
        f"homeassistant:\n  url: {ha.url}\n  token_file: {token}\n"
        f"wyoming:\n  uri: tcp://127.0.0.1:{provider_port}\n  zeroconf: false\n"
        f"assist_satellite:\n  mode: {mode}\n  uri: tcp://127.0.0.1:{satellite_port}\n"
        f"  zeroconf: false\n  name: Bench satellite\n"
        f"health:\n  port: {health_port}\naudio:\n  chimes: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATELLITE")}
    process = subprocess.Popen(
        [sys.executable, "-m", "satellite", "--config", str(config), "--state-dir",
         str(run_dir / "state"), "run", "--mic-command", room.mic_command(audio, marks, go),
         "--snd-command", room.speaker_command(rate_hz)],
        cwd=REPO, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    health = f"http://127.0.0.1:{health_port}"
    try:
        wait("readiness", lambda: http_ok(f"{health}/readyz"), 300.0, process)
        if mode == "satellite":
            if first_satellite:
                add_box_to_home_assistant(ha, provider_port, satellite_port, tts_language)
            wait("Home Assistant running the satellite", lambda: satellite_running(health), 90.0, process)
        go.touch()
        _, log = process.communicate(timeout=audio.seconds + 180.0)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    (run_dir / "daemon.log").write_text(log)
    times: dict[str, list[float]] = {"wake": [], "question": []}
    for label, at in room.marks():
        times[label].append(at)
    replies = room.replies()
    rows = []
    for n, (wake_t, question_t) in enumerate(zip(times["wake"], times["question"], strict=True)):
        next_wake = times["wake"][n + 1] if n + 1 < len(times["wake"]) else float("inf")
        after = [r for r in replies if question_t < r < next_wake]
        if after:
            rows.append({"wake_ms": (after[0] - wake_t) * 1000,
                         "question_ms": (after[0] - question_t) * 1000})
    return {"mode": mode, "asked": len(times["wake"]), "rows": rows, "log": str(run_dir / "daemon.log")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--gap-s", type=float, default=10.0, help="silence after each command")
    parser.add_argument("--modes", default="local,satellite")
    args = parser.parse_args()
    tts = PiperTts(load_config(None, env={}).tts)
    wake = spoken(tts, "Okay Nabu.")
    commands = [spoken(tts, "Turn on the kitchen lights."), spoken(tts, "Turn off the kitchen lights.")]
    audio, marks = Pcm.silence(1.0), []
    for n in range(args.turns):
        marks.append([len(audio.audio) + last_voiced_byte(wake), "wake"])
        audio = audio + wake + Pcm.silence(0.3)
        command = commands[n % 2]
        marks.append([len(audio.audio) + last_voiced_byte(command), "question"])
        audio = audio + command + Pcm.silence(args.gap_s)
    ports = (free_loopback_port(), free_loopback_port(), free_loopback_port())
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-satellite-") as tmp:
        work = Path(tmp)
        ha = HomeAssistant(ensure_venv(extras=EXTRAS), work / "homeassistant")
        ha.start()
        try:
            first = True
            for mode in args.modes.split(","):
                results.append(run_mode(mode, ha, work, audio, marks, tts.voice.sample_rate_hz, ports,
                                        tts.voice.language, first and mode == "satellite"))
                first = first and mode != "satellite"
        finally:
            ha.stop()
        report(args, results)


def report(args: argparse.Namespace, results: list[dict]) -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          "Home Assistant 2024.3.3 and the box on the same machine")
    print(f"command: scripts/bench_satellite.py --turns {args.turns} --gap-s {args.gap_s} "
          f"--modes {args.modes}\n")
    print("| mode | answered / asked | end of wake word → first answer audio, p50 (min–max) "
          "| last voiced → first answer audio, p50 (min–max) |")
    print("|---|---|---|---|")
    for result in results:
        rows = result["rows"]
        if not rows:
            print(f"| {result['mode']} | 0 / {result['asked']} | – | – |")
            continue
        wake = [r["wake_ms"] for r in rows]
        question = [r["question_ms"] for r in rows]
        print(f"| {result['mode']} | {len(rows)} / {result['asked']} | {statistics.median(wake):.0f} ms "
              f"({min(wake):.0f}–{max(wake):.0f}) | {statistics.median(question):.0f} ms "
              f"({min(question):.0f}–{max(question):.0f}) |")


if __name__ == "__main__":
    main()
