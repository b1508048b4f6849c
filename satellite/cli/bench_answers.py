"""``satellite bench --answers``: ask the shipped question set, score each reply, print the table.

Every question is its own conversation, with the response cache off, through the same turn
service as every door (local and exact answers, intents, the LLM), so the figures are what a
person would get from this box's configuration: the default model, a pulled one, or a remote
``llm.uri``. The scoring rule is ``satellite.benchdata.answers``'s.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import uuid
from typing import Any

from satellite.benchdata.answers import KINDS, VERDICTS, AnswerQuestion, load_questions, score
from satellite.cli.common import turn_service
from satellite.cli.flags import overrides_from_args
from satellite.config import Config, load_config
from satellite.pipeline import TurnRequest, TurnResult


def run_answers(args: argparse.Namespace, config: Config) -> int:
    return asyncio.run(_bench(args, config))


async def _bench(args: argparse.Namespace, config: Config) -> int:
    """Each language with the config that language implies (its prompt, its local answers)."""
    chosen = args.language or config.language
    languages = sorted({q.language for q in load_questions()}) if chosen == "all" else [chosen]
    rows: list[dict[str, Any]] = []
    model = ""
    for language in languages:
        questions = load_questions(language)[:args.clips or None]
        if not questions:
            continue
        in_language = config if language == config.language else load_config(
            args.config, overrides={**overrides_from_args(args), "language": language})
        in_language = dataclasses.replace(in_language, cache=dataclasses.replace(in_language.cache,
                                                                                enabled=False))
        turns = turn_service(in_language, only=("llm",))
        model = getattr(turns.engines.llm, "name", "llm")
        await turns.start()
        try:
            for question in questions:
                rows.append(await ask(turns, question))
        finally:
            await turns.stop()
            turns.close()
    print(report(rows, model))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


async def ask(turns: Any, question: AnswerQuestion) -> dict[str, Any]:
    request = TurnRequest(question.text, door="cli", conversation=f"bench-{uuid.uuid4().hex[:8]}",
                          speak=False)
    result: TurnResult | None = None
    async for event in turns.answer(request):
        if isinstance(event, TurnResult):
            result = event
    reply = result.reply if result else ""
    timings = result.timings if result else None
    return {"language": question.language, "kind": question.kind, "question": question.text,
            "reply": reply, "verdict": score(question, reply),
            "source": timings.source if timings else "",
            "first_token_ms": timings.first_token_ms if timings else None,
            "total_ms": timings.total_ms if timings else None,
            "confidence": request.details.get("confidence")}


def report(rows: list[dict[str, Any]], model: str) -> str:
    lines = [f"model: {model}; questions: {len(rows)}; scoring: satellite/benchdata/answers.py", "",
             "| language | kind | n | " + " | ".join(VERDICTS) + " | first token p50 |",
             "|---|---|---|" + "---|" * len(VERDICTS) + "---|"]
    for language in sorted({r["language"] for r in rows}):
        for kind in KINDS:
            group = [r for r in rows if r["language"] == language and r["kind"] == kind]
            if not group:
                continue
            counts = [sum(r["verdict"] == v for r in group) for v in VERDICTS]
            firsts = [r["first_token_ms"] for r in group if r["first_token_ms"] is not None]
            p50 = f"{statistics.median(firsts):.0f} ms" if firsts else "-"
            lines.append(f"| {language} | {kind} | {len(group)} | " +
                         " | ".join(str(c) for c in counts) + f" | {p50} |")
    lines += ["", "wrong and unfitting replies:"]
    lines += [f"- [{r['language']} {r['kind']}] {r['question']} -> {r['reply']!r}"
              for r in rows if r["verdict"] in ("wrong", "unfitting")]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--answers", action="store_true",
                        help="the answer benchmark: ask the shipped questions (facts, exact answers, "
                             "statements, fragments), score right / wrong / unsure / unfitting")
    parser.add_argument("--language", default="",
                        help="with --answers: en, es or all (default: the configured language)")


__all__ = ["add_arguments", "ask", "report", "run_answers"]
