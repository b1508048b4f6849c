#!/usr/bin/env python3
"""Reply latency as the person in the room hears it, measured from outside the process.

``satellite run`` listens to a microphone command that plays recorded questions in real
time, 20 ms at a time, and notes the wall-clock time at which the last voiced sample of
each question left it; the speaker command plays the replies at their own rate (as a
speaker would: the room is gated while the box talks) and notes the wall-clock time at
which each reply's first byte arrived. Last voiced frame → first reply audio is the
difference of those two clocks, both outside the daemon; the daemon's own figure for
the same turn (its log line) is set beside it.

    .venv/bin/python scripts/bench_room.py [--clips 20] [--gap-s 9] [--set key=value ...]
        [--wake micro --say-wake]

Questions: the built-in sentence set spoken with espeak-ng (two voices), or --dev-dir.
Default daemon flags: ``--wake none`` (the question alone, as the issue measured it);
``--say-wake`` puts "Okay Nabu," (Piper) before each question, for ``--wake micro``.
Prints a Markdown report: p50/p95 over all turns and by where the answer came from,
the agreement of the daemon's own figure, and the daemon's memory (peak and at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from satellite.audio import Pcm, read_wav, to_stt_format  # noqa: E402
from satellite.benchdata import builtin_speech_set, manifest_clips  # noqa: E402
from satellite.config import load_config  # noqa: E402
from satellite.engines.tts import PiperTts  # noqa: E402
from scripts.room import Room, last_voiced_byte, spoken  # noqa: E402

TURN = re.compile(r"turn \(mic\): (.*) \((\w+)\) \|.*last voiced → first reply audio (\S+) ms")


def questions(dev_dir: Path | None, limit: int) -> list[tuple[str, Pcm]]:
    if dev_dir is not None:
        clips = manifest_clips(dev_dir)[:limit]
    else:
        speech = builtin_speech_set(Path(tempfile.mkdtemp(prefix="bench-room-")),
                                    lambda: PiperTts(load_config(None, env={}).tts))
        clips = speech.clips(limit)
    return [(clip.text, read_wav(clip.path)) for clip in clips]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--gap-s", type=float, default=9.0, help="silence after each question")
    parser.add_argument("--dev-dir", type=Path)
    parser.add_argument("--set", action="append", default=[], help="config override for the daemon")
    parser.add_argument("--wake", default="none")
    parser.add_argument("--say-wake", action="store_true", help='"Okay Nabu," before each question')
    parser.add_argument("--json", type=Path, help="write the per-turn figures here")
    parser.add_argument("--log", type=Path, help="write the daemon's log here")
    args = parser.parse_args()
    asked = questions(args.dev_dir, args.clips)
    audio, marks = Pcm.silence(1.0), []
    wake = spoken(PiperTts(load_config(None, env={}).tts), "Okay Nabu,") if args.say_wake else None
    for _, pcm in asked:
        if wake is not None:
            pcm = wake + to_stt_format(pcm)
        marks.append((len(audio.audio) + last_voiced_byte(pcm), "question"))
        audio = audio + pcm + Pcm.silence(args.gap_s)
    rate = PiperTts(load_config(None, env={}).tts).voice.sample_rate_hz
    with tempfile.TemporaryDirectory(prefix="bench-room-") as tmp:
        work = Path(tmp)
        room = Room(work)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SATELLITE")}
        sets = [item for pair in (("--set", s) for s in args.set) for item in pair]
        command = [
            sys.executable, "-m", "satellite", "--state-dir", str(work / "state"), *sets, "run",
            "--wake", args.wake, "--mic-command", room.mic_command(audio, marks),
            "--snd-command", room.speaker_command(rate), "--no-wyoming", "--no-health"]
        process = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
        peak_mb = end_mb = ready_mb = 0.0
        log_lines: list[str] = []
        turn_peaks: list[float] = []  # the peak so far at each turn's log line: which turn raised it
        turn_read: list[float] = []  # when each turn's log line came (wall clock): its question's
        assert process.stderr is not None
        for line in process.stderr:
            log_lines.append(line)
            peak_mb = max(peak_mb, _rss_mb(process.pid, "VmHWM"))
            if "listening on" in line and not ready_mb:
                ready_mb = peak_mb
            if TURN.search(line):
                turn_peaks.append(peak_mb)
                turn_read.append(time.time())
            if "end of audio input" in line:
                end_mb = _rss_mb(process.pid, "VmRSS")
        code = process.wait()
        if args.log:
            args.log.write_text("".join(log_lines))
        if code != 0:
            raise SystemExit("".join(log_lines[-40:]))
        said = [t for _, t in room.marks()]
        replies = room.replies()
    turns = [(m.group(1), m.group(2), float(m.group(3))) for m in map(TURN.search, log_lines) if m]
    rows = []
    for i, (t, (text, _)) in enumerate(zip(said, asked, strict=False)):
        after = [r for r in replies if r > t]
        if not after or after[0] - t > args.gap_s:
            continue
        # its turn: the first logged after the question's end and before the next one's (a
        # question nobody answered would otherwise pair every later question with the wrong turn)
        until = said[i + 1] if i + 1 < len(said) else float("inf")
        mine = [k for k, read in enumerate(turn_read) if t < read < until]
        if not mine:
            continue
        turn, turn_peak = turns[mine[0]], turn_peaks[mine[0]]
        rows.append({"question": text, "source": turn[1], "outside_ms": (after[0] - t) * 1000.0,
                     "daemon_ms": turn[2], "peak_mb_so_far": turn_peak})
    report(args, rows, len(asked), peak_mb, end_mb, ready_mb)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def _rss_mb(pid: int, field: str) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def report(args: argparse.Namespace, rows: list[dict], asked: int, peak_mb: float,
           end_mb: float, ready_mb: float) -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"command: scripts/bench_room.py --clips {args.clips} --gap-s {args.gap_s} --wake "
          f"{args.wake}{' --say-wake' if args.say_wake else ''} "
          f"{' '.join('--set ' + s for s in args.set)}")
    print(f"questions: {asked}, answered and timed: {len(rows)}\n")
    print("| turns | outside p50 | outside p95 | daemon's own p50 | daemon − outside (median, max abs) |")
    print("|---|---|---|---|---|")
    groups = {"all": rows, **{s: [r for r in rows if r["source"] == s]
                              for s in sorted({r["source"] for r in rows})}}
    for name, group in groups.items():
        if not group:
            continue
        outside = [r["outside_ms"] for r in group]
        own = [r["daemon_ms"] for r in group]
        diff = [r["daemon_ms"] - r["outside_ms"] for r in group]
        print(f"| {name} ({len(group)}) | {statistics.median(outside):.0f} ms | "
              f"{percentile(outside, 0.95):.0f} ms | {statistics.median(own):.0f} ms | "
              f"{statistics.median(diff):+.0f} ms, {max(abs(d) for d in diff):.0f} ms |")
    print(f"\nresident memory of the daemon: peak {peak_mb:.0f} MB ({ready_mb:.0f} MB when it was ready "
          f"to listen), at the end of input {end_mb:.0f} MB")


if __name__ == "__main__":
    main()
