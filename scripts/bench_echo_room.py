#!/usr/bin/env python3
"""Echo cancellation measured through the room simulator, with ``satellite run`` as a process (#19).

The room (``scripts/room.py`` with ``RoomEcho``) feeds the box's own output back into its
microphone (delay, attenuation, a reverberation tail) with background noise, in real time.

``echo``: the built-in questions (Piper) one after another, nobody speaking over the replies.
The daemon's canceller logs, per stretch of the box's sound, the echo's level at the mic and
how far it reduced it (ERLE: no one else speaks then); the room's own log of the echo it mixed
in gives the level from outside. Reply latency (last voiced frame → first reply audio, both
clocks outside the daemon) is set beside it, to show the canceller costs none.

``double-talk``: "Okay Nabu, tell me a long story about the sea and the ships." and, while the
reply plays, "Okay Nabu, <a built-in sentence>" (``audio.barge_in`` on, wake word okay_nabu).
Counted: the barge-ins, and the WER of the turn that follows against the sentence (no turn:
every word missed). With ``--no-reply`` the long question is not asked: the same sentences,
wake word and room, said into silence (the issue's "the same speech without the reply").

``stop``: the same long question and, while the reply plays, a stop word without the wake word
("Stop.", "Never mind.", "Be quiet."...). Counted: the replies stopped, and from the end of the
stop word (the microphone's clock) to the end of the box's sound (the speaker's timeline: the
first 0.5 s it stays silent), both outside the daemon.

``ring``: "Okay Nabu, set a timer for five seconds." and, once the timer rings, a stop word
without the wake word. Stopped: the speaker silent within ``RING_STOPPED_S`` of the stop word's
end (``timers.max_ring_s`` is 30 s here); the same wait as in ``stop``.

In every mode the daemon's own barge-ins and stops are counted: in ``echo`` nobody speaks over a
reply, so any is the box interrupting itself.

    .venv/bin/python scripts/bench_echo_room.py echo|double-talk|stop|ring [--clips 8] [--set key=value ...]
        [--no-cancel] [--delay-ms 40] [--gain-db -6] [--tail-ms 150] [--noise-dbfs -55]
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
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from satellite.audio import Pcm  # noqa: E402
from satellite.benchdata import builtin_sentences, one_per_text  # noqa: E402
from satellite.config import load_config  # noqa: E402
from satellite.engines.tts import PiperTts  # noqa: E402
from satellite.timers.ring import RING_PAUSE_S  # noqa: E402
from scripts.room import Room, RoomEcho, last_voiced_byte, spoken  # noqa: E402
from tests.hearing import wer  # noqa: E402

# (a transcript with an apostrophe is logged in double quotes: "I'll Emily Johnson at work")
TURN = re.compile(r"turn \(mic\): (['\"])(.*?)\1 -> .*last voiced → first reply audio (\S+) ms")
ECHO = re.compile(r"echo: (\S+) s of the box's sound, mic (\S+) dBFS, reduced by (\S+) dB")
LONG_QUESTION = "Okay Nabu, tell me a long story about the sea and the ships."
OVER_REPLY_S = 4.0  # the person speaks this long after the question ended (the reply is playing)
STOP_WORDS = ("Stop.", "Never mind.", "Be quiet.", "Stop it.", "Cancel.", "That's enough.",
              "Okay, stop.", "Stop talking.")
TIMER_QUESTION = "Okay Nabu, set a timer for five seconds."
RINGING_AFTER_S = 13.0  # the stop word this long after the timer question: its announcement said, ringing
RING_STOPPED_S = 3.0  # a ring that went on longer than this after the stop word was not stopped
SILENT_S = 0.5  # the box's sound has ended when the speaker stays this long below SILENT_LEVEL
SILENT_LEVEL = 100


def run_daemon(room: Room, audio: Pcm, marks: list[tuple[int, str]], work: Path, sets: list[str],
               wake: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATELLITE")}
    flags = [item for s in sets for item in ("--set", s)]
    command = [sys.executable, "-m", "satellite", "--state-dir", str(work / "state"), *flags, "run",
               "--wake", wake, "--mic-command", room.mic_command(audio, marks),
               "--snd-command", room.speaker_command(16000), "--no-wyoming", "--no-health"]
    done = subprocess.run(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True, check=False)
    lines = done.stderr.splitlines()
    if done.returncode != 0:
        raise SystemExit("\n".join(lines[-40:]))
    return lines


def sound_ends(played: np.ndarray, from_s: float, silent_s: float = SILENT_S) -> float:
    """The first time from ``from_s`` (seconds on the room's timeline) after which the speaker
    stays silent for ``silent_s``."""
    window = int(silent_s * 16000)
    start = max(0, int(from_s * 16000))
    loud = np.nonzero(np.abs(played[start:]) > SILENT_LEVEL)[0]
    if len(loud) == 0:
        return from_s
    gaps = np.nonzero(np.diff(np.concatenate([[-1], loud])) > window)[0]
    first_gap = gaps[0] if len(gaps) else len(loud)  # the sound before the first long silence
    end = loud[first_gap - 1] + 1 if first_gap > 0 else 0
    return (start + end) / 16000


def level_dbfs(x: np.ndarray) -> float:
    return 10 * np.log10(float(np.mean(x.astype(np.float64) ** 2)) + 1e-9) - 90.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("echo", "double-talk", "stop", "ring"))
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--gap-s", type=float, default=10.0)
    parser.add_argument("--no-cancel", action="store_true", help="audio.echo_cancel=false")
    parser.add_argument("--no-reply", action="store_true",
                        help="double-talk: the sentences without the long reply under them")
    parser.add_argument("--delay-ms", type=float, default=40.0)
    parser.add_argument("--gain-db", type=float, default=-6.0)
    parser.add_argument("--tail-ms", type=float, default=150.0)
    parser.add_argument("--noise-dbfs", type=float, default=-55.0)
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--log", type=Path)
    args = parser.parse_args()
    tts = PiperTts(load_config(None, env={}).tts)
    sentences = [s.text for s in one_per_text(builtin_sentences())[:args.clips]]
    sets = ["audio.snd_rate_hz=16000", f"audio.echo_cancel={'false' if args.no_cancel else 'true'}",
            *args.set]
    echo = RoomEcho(args.delay_ms, args.gain_db, args.tail_ms, args.noise_dbfs)
    audio, marks = Pcm.silence(1.0), []
    if args.what == "echo":
        for text in sentences:
            pcm = spoken(tts, text)
            marks.append((len(audio.audio) + last_voiced_byte(pcm), "question"))
            audio = audio + pcm + Pcm.silence(args.gap_s)
        wake = "none"
    elif args.what in ("stop", "ring"):
        question = spoken(tts, LONG_QUESTION if args.what == "stop" else TIMER_QUESTION)
        after_s = OVER_REPLY_S if args.what == "stop" else RINGING_AFTER_S
        for n in range(args.clips):
            marks.append((len(audio.audio) + last_voiced_byte(question), "question"))
            over = spoken(tts, STOP_WORDS[n % len(STOP_WORDS)])
            said_at = len(audio.audio) + len(question.audio) + len(Pcm.silence(after_s).audio)
            marks.append((said_at + last_voiced_byte(over), "stop"))
            audio = audio + question + Pcm.silence(after_s) + over + Pcm.silence(args.gap_s)
        wake = "micro"
        if args.what == "ring":
            sets.append("timers.max_ring_s=30")
    else:
        question = spoken(tts, LONG_QUESTION)
        if args.no_reply:
            question = Pcm.silence(question.seconds)
        for text in sentences:
            marks.append((len(audio.audio) + last_voiced_byte(question), "question"))
            over = spoken(tts, "Okay Nabu, " + text)
            audio = audio + question + Pcm.silence(OVER_REPLY_S) + over + Pcm.silence(args.gap_s)
        wake = "micro"
    with tempfile.TemporaryDirectory(prefix="bench-echo-room-") as tmp:
        work = Path(tmp)
        room = Room(work, echo)
        lines = run_daemon(room, audio, marks, work, sets, wake)
        said = [t for label, t in room.marks() if label == "question"]
        stops_said = [t for label, t in room.marks() if label == "stop"]
        replies = room.replies()
        echo_heard = room.echo_heard()
        played, epoch = room.played(), json.loads((work / "room.json").read_text())["epoch"]
    if args.log:
        args.log.write_text("\n".join(lines))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"command: scripts/bench_echo_room.py {args.what} --clips {args.clips}"
          f"{' --no-cancel' if args.no_cancel else ''}"
          f"{' --no-reply' if args.no_reply else ''} --delay-ms {args.delay_ms:g} --gain-db "
          f"{args.gain_db:g} --tail-ms {args.tail_ms:g} --noise-dbfs {args.noise_dbfs:g} "
          f"{' '.join('--set ' + s for s in args.set)}")
    loud = echo_heard[np.abs(echo_heard) > 0]
    print(f"echo at the mic while the box spoke (from the room's log): {level_dbfs(loud):.1f} dBFS; "
          f"noise {args.noise_dbfs:g} dBFS")
    turns = [(m.group(2), m.group(3)) for m in map(TURN.search, lines) if m]
    barge_ins = sum("barge-in:" in line for line in lines)
    stops = sum("stop: " in line and "over the reply" in line for line in lines)
    print(f"the daemon's barge-ins: {barge_ins}; replies stopped by a stop word: {stops}")
    if args.what in ("stop", "ring"):
        silent_s = SILENT_S if args.what == "stop" else RING_PAUSE_S + SILENT_S  # not a ring's pause
        waits = [sound_ends(played, t - epoch, silent_s) - (t - epoch) for t in stops_said]
        if args.what == "ring":
            stops = sum(w <= RING_STOPPED_S for w in waits)
            waits = [w for w in waits if w <= RING_STOPPED_S]
        print(f"stop words said over a {'reply' if args.what == 'stop' else 'ring'}: "
              f"{len(stops_said)}; stopped: {stops}")
        print("stop word's end → the box silent, outside: " + ", ".join(f"{w * 1000:.0f}" for w in waits)
              + f" ms; p50 {statistics.median(waits) * 1000:.0f} ms" if waits else "no stop word said")
        return
    if args.what == "echo":
        stretches = [(float(s), float(lvl), float(e)) for s, lvl, e in
                     (m.groups() for m in map(ECHO.search, lines) if m)]
        erle = [e for s, _, e in stretches if s >= 1.0]
        print(f"turns: {len(turns)} of {len(sentences)} questions")
        if erle:
            print(f"ERLE, the daemon's canceller, per reply of 1 s or more ({len(erle)}): median "
                  f"{statistics.median(erle):.1f} dB, min {min(erle):.1f} dB, max {max(erle):.1f} dB")
        else:
            print("ERLE: no canceller ran (0 dB)")
        latency = []
        for t in said:
            after = [r for r in replies if r > t]
            if after and after[0] - t < args.gap_s:
                latency.append((after[0] - t) * 1000)
        if latency:
            print(f"last voiced → first reply audio, outside: p50 {statistics.median(latency):.0f} ms "
                  f"over {len(latency)} turns")
        return
    asked = [text for text, _ in turns if "long story" not in text.lower()]
    errors = []
    for text in sentences:
        heard = [h for h in asked if wer(text, h) < 1.0]
        best = min((wer(text, h) for h in heard), default=1.0)
        errors.append(best)
    print(f"barge-ins: {barge_ins} of {len(sentences)} tries; turns: {len(turns)}")
    print(f"WER of the sentences said over the reply: {statistics.mean(errors):.1%} "
          f"(a sentence with no turn counts as 100 %)")
    for text, error in zip(sentences, errors, strict=True):
        print(f"  {error:5.0%}  {text}")
    print("transcripts: " + " | ".join(asked))


if __name__ == "__main__":
    main()
