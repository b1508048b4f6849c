"""``satellite check``: each local model loaded and tried once, in a child process, with a table.

The same probe the daemon trusts (``satellite.engines.probe``), run afresh: a crash in native
code is one line naming the engine, the model, the signal and the CPU, and a non-zero exit; the
verdicts it writes are the ones the next start uses. Piper's audio is what Whisper hears.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from satellite.config import Config
from satellite.engines import RESOLVE
from satellite.engines.cpu import read_cpu_facts
from satellite.engines.probe import EngineProbe, Verdict
from satellite.engines.report import engine_words, probed_entry

STAGES = ("tts", "stt", "llm")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="load every model and run one tiny inference each "
                                          "(in a child process, so a crash is reported, not fatal)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    cpu = read_cpu_facts()
    print(f"cpu: {cpu.describe()}")
    stages = STAGES + (("wake",) if config.wake.engine in ("micro", "openwakeword") else ())
    sections = {stage: RESOLVE[stage](config) for stage in STAGES}
    sections["wake"] = config.wake
    with tempfile.TemporaryDirectory(prefix="satellite-check-") as folder:
        wav = str(Path(folder) / "spoken.wav")
        chain = {"tts": {"wav_out": wav}, "stt": {"wav_in": wav}}
        verdicts = EngineProbe(config, sections, cpu=cpu).verdicts(stages, fresh=True, extra=chain)
    rows = [_row(verdicts[stage]) for stage in stages]
    header = ("stage", "state", "load", "inference", "detail")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)))
    for stage in stages:
        if verdicts[stage].facts:
            print(f"{stage}: {engine_words(stage, probed_entry(stage, verdicts[stage]))}")
    return 0 if all(v.state in ("ok", "safe") for v in verdicts.values()) else 1


def _row(verdict: Verdict) -> tuple[str, str, str, str, str]:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f} ms"

    if verdict.state == "broken":
        return (verdict.stage, "BROKEN", "-", "-", verdict.line)
    if verdict.state == "unknown":  # an expected error: a missing or corrupt model
        return (verdict.stage, "FAILED", "-", "-", verdict.detail)
    state = "ok" if verdict.state == "ok" else "ok (safe settings)"
    detail = verdict.detail if verdict.state == "ok" else f"{verdict.detail}; {verdict.line}"
    return (verdict.stage, state, ms(verdict.load_ms), ms(verdict.infer_ms), detail)

