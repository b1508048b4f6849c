#!/usr/bin/env python3
"""Near misses (#18, part 8): how many misheard commands the recognizer recovers, how many
questions and statements it turns into a command, and what it costs per transcript.

Runs every line of the shipped set (``satellite/benchdata/near_misses.tsv``) through the
recognizer of its language, in the set's home (``HOME``), with the near-miss stage (now) and with
hassil's exact match alone (before), and prints per language:

- recovered: near misses reaching the command that was said, of near misses + declined ones;
- false commands: non-commands and declined lines that reached any command;
- ms per transcript (median, p95 and max of ``--runs`` passes, after a first pass that lets
  hassil compile its sentences), for all lines and for those that reach no command (the ones
  the language model then answers: what the stage adds to its path), and the set-up time.

    .venv/bin/python scripts/bench_near_misses.py [--runs 5] [--verbose]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from satellite.benchdata.near_misses import HOME, evaluate, load_lines  # noqa: E402
from satellite.intents import IntentRecognizer  # noqa: E402
from satellite.intents.recognizer import load_intents, load_vocabulary  # noqa: E402


def timed_ms(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    return result, (time.perf_counter() - start) * 1000


def _spread(ms: list[float]) -> str:
    """median / p95 / max"""
    return f"{statistics.median(ms):.1f} / {ms[int(0.95 * (len(ms) - 1))]:.1f} / {ms[-1]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="passes over the set (times: median)")
    parser.add_argument("--verbose", action="store_true", help="one line per transcript")
    args = parser.parse_args()
    print("| language | recovered (before → now) | false commands (before → now) | ms per transcript, "
          "median / p95 / max (before → now) | ms, transcripts left to the LLM (before → now) | "
          "set-up |")
    print("|---|---|---|---|---|---|")
    for language, (areas, devices) in HOME.items():
        lines = load_lines(language)
        load_intents(language)
        _, words_ms = timed_ms(load_vocabulary, language)
        recognizer, build_ms = timed_ms(IntentRecognizer, language, areas, devices)
        exact = recognizer._exact  # hassil alone: the recognizer before this stage
        _, first_ms = timed_ms(lambda: [recognizer.recognize(line.heard) for line in lines])
        times: dict[str, list[float]] = {"now": [], "before": [], "unmatched": [],
                                         "unmatched_before": []}
        outcomes = []
        for run in range(args.runs):
            for line in lines:
                outcome, ms = timed_ms(evaluate, line, recognizer.recognize)
                _, before_ms = timed_ms(exact, line.heard.strip())
                meant_ms = 0.0
                if line.kind == "near_miss":  # evaluate also recognized what was meant
                    _, meant_ms = timed_ms(recognizer.recognize, line.meant)
                times["now"].append(ms - meant_ms)
                times["before"].append(before_ms)
                if outcome.got is None:
                    times["unmatched"].append(ms - meant_ms)
                    times["unmatched_before"].append(before_ms)
                if run == 0:
                    outcomes.append(outcome)
        misses = [o for o in outcomes if o.line.kind != "not_command"]
        recovered = sum(1 for o in misses if o.ok and o.line.kind == "near_miss")
        commands_before = sum(1 for o in misses if exact(o.line.heard.strip()) is not None)
        others = [o for o in outcomes if o.line.kind != "near_miss"]
        false_now = sum(1 for o in others if o.got is not None)
        false_before = sum(1 for o in others if exact(o.line.heard.strip()) is not None)
        now, before, unmatched, unmatched_before = (
            sorted(times[key]) for key in ("now", "before", "unmatched", "unmatched_before"))
        print(f"| {language} | {commands_before}/{len(misses)} → **{recovered}/{len(misses)}** | "
              f"{false_before}/{len(others)} → **{false_now}/{len(others)}** | "
              f"{_spread(before)} → {_spread(now)} | {_spread(unmatched_before)} → {_spread(unmatched)} | "
              f"words {words_ms:.0f} ms (once per process), first pass over the set {first_ms:.0f} ms "
              f"(hassil compiles on first use) |")
        if args.verbose:
            for o in outcomes:
                got = f"{o.got.name} {o.got.entities} ← {o.got.text!r}" if o.got else "-"
                print(f"    {'ok ' if o.ok else 'BAD'} {o.line.kind:11} {o.line.heard!r:48} {got} {o.why}")


if __name__ == "__main__":
    main()
