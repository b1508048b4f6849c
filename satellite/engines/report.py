"""What the engines run on, for a person: the CPU, the features each engine reports, its threads,
whether llama.cpp repacks weights, and what the probe said. Shown by ``satellite check``,
``/status`` and the start-up log."""

from __future__ import annotations

import re
from typing import Any

from satellite.engines.broken import BROKEN
from satellite.engines.cpu import CpuFacts, read_cpu_facts
from satellite.engines.probe import Verdict


def llama_features(system_info: str) -> list[str]:
    """"CPU : SSE3 = 1 | AVX2 = 1 | AMX_INT8 = 1 | ..." -> ["SSE3", "AVX2", "AMX_INT8", ...]."""
    return re.findall(r"\b([A-Z][A-Z0-9_]*) = 1\b", system_info)


def threads(count: object) -> str:
    return "1 thread" if count == 1 else f"{count} threads"


def engine_report(engines: Any, cpu: CpuFacts | None = None) -> dict[str, Any]:
    cpu = cpu or read_cpu_facts()
    report: dict[str, Any] = {}
    for stage in ("stt", "llm", "tts"):
        engine = getattr(engines, stage, None)
        engine = getattr(engine, "local", None) or engine  # a remote with the local one behind it
        verdict = engines.verdicts.get(stage)
        if stage in engines.links and stage not in engines.fallbacks:
            report[stage] = {"runs": "remote"}
            continue
        if engine is None or type(engine).__name__ == "NotLoaded":
            continue
        facts = dict(verdict.facts) if verdict is not None else {}
        entry: dict[str, Any] = {"runs": "broken" if isinstance(engine, tuple(BROKEN.values())) else "local",
                                 "probe": verdict.state if verdict is not None else "not probed"}
        if verdict is not None and verdict.line:
            entry["line"] = verdict.line
        if hasattr(engine, "threads"):
            entry["threads"] = engine.threads
        if stage == "llm" and hasattr(engine, "system_info"):
            entry["features"] = llama_features(engine.system_info)
            entry["extra_buffers"] = engine.extra_buffers
        if stage == "stt" and facts.get("ctranslate2"):
            entry["features"] = facts["ctranslate2"]
        if stage == "stt" and hasattr(engine, "config"):
            entry["compute_type"] = engine.config.compute_type
        if hasattr(engine, "slots"):  # the engine box's batching
            entry["parallel"] = engine.slots
        if hasattr(engine, "max_batch"):
            entry["batch"] = engine.max_batch
        report[stage] = entry
    return {"cpu": cpu.as_dict(), "engines": report}


def report_line(report: dict[str, Any]) -> str:
    """One line: "CPU Intel Xeon (x86_64, 2 cores: avx2 avx512f amx_int8); llm: 1 thread, ..."."""
    cpu = report["cpu"]
    parts = [f"CPU {cpu['model']} ({cpu['machine']}, {cpu['cores']} cores: {' '.join(cpu['simd'])})"]
    for stage, entry in report["engines"].items():
        if entry["runs"] != "local":
            parts.append(f"{stage}: {entry['runs']}")
            continue
        parts.append(f"{stage}: {engine_words(stage, entry)}")
    return "; ".join(parts)


def engine_words(stage: str, entry: dict[str, Any]) -> str:
    """"1 thread, llama.cpp AVX2 AMX_INT8 ..., extra buffers (repack) off" for one engine."""
    words = [threads(entry["threads"])] if "threads" in entry else []
    if stage == "llm":
        words.append("llama.cpp " + " ".join(entry.get("features", [])))
        words.append(f"extra buffers (repack) {'on' if entry.get('extra_buffers') else 'off'}")
    if stage == "stt":
        words.append(f"CTranslate2 {entry.get('features') or '(features not probed)'}")
        words.append(str(entry.get("compute_type", "")))
    if entry.get("runtime"):
        words.append(f"runtime {entry['runtime']}")
    if entry.get("probe") == "safe":
        words.append("safe settings after a crash")
    return ", ".join(w for w in words if w)


def probed_entry(stage: str, verdict: Verdict) -> dict[str, Any]:
    """What a probe child reported of its engine, in ``engine_report``'s terms."""
    facts = verdict.facts
    entry: dict[str, Any] = {key: facts[key] for key in ("threads", "compute_type", "runtime",
                                                          "extra_buffers") if key in facts}
    entry["probe"] = verdict.state
    if "llama.cpp" in facts:
        entry["features"] = llama_features(str(facts["llama.cpp"]))
    if facts.get("ctranslate2"):
        entry["features"] = facts["ctranslate2"]
    return entry
