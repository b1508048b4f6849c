"""``satellite turn --input q.wav --output reply.wav``: one whole voice turn, with its timings."""

from __future__ import annotations

import argparse
import asyncio
import json

from satellite.audio import Pcm, read_wav, write_wav
from satellite.cli.common import fmt_ms, turn_service
from satellite.config import Config
from satellite.engines.stt import Transcript
from satellite.pipeline import ReplySentence, TurnRequest, TurnResult


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("turn", help="a whole voice turn from a WAV to a WAV")
    parser.add_argument("--input", "-i", required=True, metavar="Q.wav")
    parser.add_argument("--output", "-o", metavar="REPLY.wav", help="where the spoken reply goes")
    parser.add_argument("--conversation", default="", help="conversation id for memory")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    return asyncio.run(_turn(args, config))


async def _turn(args: argparse.Namespace, config: Config) -> int:
    question = read_wav(args.input)
    turns = turn_service(config)
    audio: list[Pcm] = []
    result: TurnResult | None = None
    await turns.start()
    try:
        async for event in turns.turn(question, TurnRequest("", door="cli",
                                                            conversation=args.conversation)):
            if isinstance(event, Transcript) and not args.json:
                print(f"you said:  {event.text}", flush=True)
            elif isinstance(event, ReplySentence) and not args.json:
                print(f"reply:     {event.text}", flush=True)
            elif isinstance(event, Pcm):
                audio.append(event)
            elif isinstance(event, TurnResult):
                result = event
    finally:
        await turns.stop()
        turns.close()
    assert result is not None
    if args.output and audio:
        write_wav(args.output, Pcm(b"".join(p.audio for p in audio), audio[0].rate_hz))
    t = result.timings
    if args.json:
        print(json.dumps({"transcript": result.transcript, "reply": result.reply,
                          "audio_s": round(result.audio_s, 2), "timings": t.as_dict()}))
    else:
        print(f"timings:   stt {fmt_ms(t.stt_ms)} · first token {fmt_ms(t.first_token_ms)} · "
              f"first sentence {fmt_ms(t.first_sentence_ms)} · first audio "
              f"{fmt_ms(t.first_audio_ms)} · total {fmt_ms(t.total_ms)} ({t.source})")
        if args.output:
            print(f"wrote:     {args.output} ({result.audio_s:.1f} s)")
    return 0
