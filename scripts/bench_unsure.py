#!/usr/bin/env python3
"""Choose ``llm.min_confidence`` by measurement: what "I'm not sure" removes and what it stops.

Asks every everyday-fact question of a set (default: the tuning set, ``facts_dev.tsv``; the
held-out one is the answer benchmark's ``answers.tsv``) through the turn service, as
``satellite bench --answers`` does, with the check on at the lowest bar so that each reply
carries the confidence of its first answering sentence. Then, for each threshold, a reply
whose confidence is below it would have been "I'm not sure": the table counts the right answers
that costs and the wrong ones it stops, per language. (A reply that only says the question back
is unsure at every threshold.)

    .venv/bin/python scripts/bench_unsure.py [--set facts_dev.tsv|answers.tsv] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from satellite.benchdata.answers import load_questions  # noqa: E402
from satellite.cli.bench_answers import ask  # noqa: E402
from satellite.cli.common import turn_service  # noqa: E402
from satellite.config import load_config  # noqa: E402

THRESHOLDS = (0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7)
LOWEST = 1e-9  # the check on, so replies carry their confidence, and (almost) nothing refused


async def collect(question_set: str, languages: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for language in languages:
        questions = [q for q in load_questions(language, question_set) if q.kind == "fact"]
        config = load_config(None, overrides={"language": language})
        config = dataclasses.replace(config, cache=dataclasses.replace(config.cache, enabled=False),
                                     llm=dataclasses.replace(config.llm, min_confidence=LOWEST))
        turns = turn_service(config, only=("llm",))
        await turns.start()
        try:
            for question in questions:
                row = await ask(turns, question)
                rows.append(row)
                print(f"{row['language']} {row['verdict']:6} {row['confidence']!s:6} "
                      f"{row['question']} -> {row['reply'][:80]!r}", flush=True)
        finally:
            await turns.stop()
            turns.close()
    return rows


def sweep(rows: list[dict[str, Any]]) -> str:
    lines = ["| language | threshold | right said | wrong said | unsure | wrong of all |",
             "|---|---|---|---|---|---|"]
    for language in sorted({r["language"] for r in rows}):
        group = [r for r in rows if r["language"] == language]
        for threshold in THRESHOLDS:
            said = [r for r in group if r["verdict"] in ("right", "wrong")
                    and (r["confidence"] or 0.0) >= threshold]
            right = sum(r["verdict"] == "right" for r in said)
            wrong = len(said) - right
            lines.append(f"| {language} | {threshold:.2f} | {right} | {wrong} | {len(group) - len(said)}"
                         f" | {wrong / len(group):.0%} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="facts_dev.tsv", help="a question file of satellite/benchdata")
    parser.add_argument("--language", default="all", help="en, es or all")
    parser.add_argument("--json", type=Path, help="write every reply with its confidence here")
    args = parser.parse_args()
    languages = ["en", "es"] if args.language == "all" else [args.language]
    rows = asyncio.run(collect(args.set, languages))
    print()
    print(sweep(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
