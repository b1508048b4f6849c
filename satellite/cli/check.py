"""``satellite check``: load every configured model, run one tiny inference each, print a table."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from satellite.audio import Pcm, to_stt_format
from satellite.cli.common import progress_printer
from satellite.config import Config
from satellite.engines.llm import ChatMessage, LlamaCppLlm
from satellite.engines.stt import WhisperStt
from satellite.engines.tts import PiperTts
from satellite.errors import SatelliteError
from satellite.models import resolved_llm, resolved_stt, resolved_tts


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="load every model and run one tiny inference each")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    rows: list[tuple[str, str, str, str, str]] = []
    show = progress_printer()
    spoken: list[Pcm] = []

    def step(stage: str, load: Callable[[], object], infer: Callable[[object], str]) -> None:
        if show:
            show(stage, "loading")
        start = time.perf_counter()
        try:
            engine = load()
            load_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            detail = infer(engine)
            infer_ms = (time.perf_counter() - start) * 1000
            rows.append((stage, "ok", f"{load_ms:.0f} ms", f"{infer_ms:.0f} ms", detail))
        except SatelliteError as error:
            rows.append((stage, "FAILED", "-", "-", str(error)))
        if show:
            show(stage, rows[-1][1])

    def tts_infer(engine: object) -> str:
        assert isinstance(engine, PiperTts)
        blocks = list(engine.synthesize("Testing one two three."))
        pcm = Pcm(b"".join(b.audio for b in blocks), blocks[0].rate_hz)
        spoken.append(pcm)
        return f"{engine.voice.name}: {pcm.seconds:.2f} s of audio"

    def stt_infer(engine: object) -> str:
        assert isinstance(engine, WhisperStt)
        pcm = to_stt_format(spoken[0]) if spoken else Pcm.silence(1.0)
        return f"{engine.model_dir.name}: heard {engine.transcribe(pcm).text!r}"

    def llm_infer(engine: object) -> str:
        assert isinstance(engine, LlamaCppLlm)
        reply = "".join(engine.stream([ChatMessage("user", "Say hello in three words.")]))
        return f"{engine.path.name}: {reply.strip()[:40]!r}"

    step("tts", lambda: PiperTts(resolved_tts(config)), tts_infer)
    step("stt", lambda: WhisperStt(resolved_stt(config)), stt_infer)
    step("llm", lambda: LlamaCppLlm(resolved_llm(config)), llm_infer)

    widths = [max(len(r[i]) for r in rows + [("stage", "state", "load", "inference", "")])
              for i in range(4)]
    header = ("stage", "state", "load", "inference", "detail")
    for row in [header, *rows]:
        print("  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)))
    return 0 if all(r[1] == "ok" for r in rows) else 1
