"""``satellite ask "TEXT"``: the reply, printed as it streams (no audio)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from satellite.cli.common import fmt_ms, turn_service
from satellite.config import Config
from satellite.pipeline import ReplySentence, TurnRequest, TurnResult


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ask", help="ask a question in text; prints the reply as it streams")
    parser.add_argument("text", help="the question")
    parser.add_argument("--conversation", default="", help="conversation id for multi-turn memory")
    parser.add_argument("--timings", action="store_true", help="print timings to stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    return asyncio.run(_ask(args, config))


async def _ask(args: argparse.Namespace, config: Config) -> int:
    turns = turn_service(config, only=("llm",))

    result: TurnResult | None = None
    # what the box would say, sentence by sentence as it comes: not the model's raw tokens,
    # which may hold a guess the unsure check or the reply guard does not let through
    request = TurnRequest(args.text, door="cli", conversation=args.conversation, speak=False)
    await turns.start()
    try:
        said = 0
        async for event in turns.answer(request):
            if isinstance(event, ReplySentence):
                sys.stdout.write((" " if said else "") + event.text)
                sys.stdout.flush()
                said += 1
            elif isinstance(event, TurnResult):
                result = event
    finally:
        await turns.stop()
        turns.close()
    sys.stdout.write("\n")
    if args.timings and result:
        t = result.timings
        print(f"source={t.source} first_token={fmt_ms(t.first_token_ms)} "
              f"first_sentence={fmt_ms(t.first_sentence_ms)} total={fmt_ms(t.total_ms)}",
              file=sys.stderr)
    return 0
