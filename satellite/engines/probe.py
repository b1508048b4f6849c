"""Each local engine's first inference, tried in a child process before a process relies on it.

A segfault, an illegal instruction or an abort in native code (llama.cpp, CTranslate2,
onnxruntime) kills the process that runs it, with no Python error to catch: under systemd that
is a crash loop with no word. So the first time an engine meets a CPU, an engine version and a
model file, a child process loads it and runs one tiny inference (``probe_child``). On a crash
the child is tried once more with the safe settings (``SAFE``: no weight repacking, one
thread); if that dies too the engine is *broken* here, and the process starts without it.

The verdict is kept in a small JSON file under ``state_dir``, keyed by everything that can
change it, so a normal start pays nothing and another CPU, package or model probes again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from satellite.config.paths import (
    default_llm_model,
    default_stt_model,
    default_tts_voice,
    resolve_state_dir,
)
from satellite.config.schema import Config
from satellite.engines.cpu import CpuFacts, read_cpu_facts

_LOGGER = logging.getLogger(__name__)
PROBE_VERSION = 1  # bump when what a probe does changes: every verdict is probed again
VERDICTS_FILE = "engine-verdicts.json"
EXIT_EXPECTED = 3  # the child's exit code for an expected error (a missing model): no verdict

# What each engine's native code is: the packages whose version is part of the verdict's key.
PACKAGES = {
    "llm": ("llama_cpp_python",),
    "stt": ("faster-whisper", "ctranslate2"),
    "tts": ("piper-tts", "onnxruntime"),
    "wake": ("pymicro-wakeword", "pyopen-wakeword", "pymicro-features", "ai-edge-litert"),
}
# The settings a crashed engine is tried again with, and used with if they work.
SAFE: dict[str, dict[str, Any]] = {
    "llm": {"extra_buffers": "disabled", "n_threads": 1},
    "stt": {"threads": 1, "compute_type": "float32"},
    "tts": {"threads": 1},
    "wake": {"runtime": "litert"},  # microWakeWord's models on LiteRT instead of the bundled TFLite
}
SAFE_WORDS = {
    "llm": "no extra buffers or weight repacking, 1 thread",
    "stt": "float32, 1 thread",
    "tts": "1 thread",
    "wake": "LiteRT instead of the bundled TensorFlow Lite",
}


@dataclass
class Verdict:
    """What the probe concluded for one engine on this CPU, package versions and model."""

    stage: str
    state: str  # ok | safe (works with SAFE settings) | broken | unknown (not probed)
    line: str = ""  # the one line said about a crash; empty when ok
    settings: dict[str, Any] = field(default_factory=dict)  # SAFE overrides to run with
    facts: dict[str, Any] = field(default_factory=dict)  # what the engine reported of the CPU
    detail: str = ""  # the child's answer ("heard 'testing one two three'")
    load_ms: float | None = None
    infer_ms: float | None = None
    cached: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "line": self.line, "settings": dict(self.settings),
                "facts": dict(self.facts), "cached": self.cached}


def model_path(stage: str, section: Any) -> Path:
    """The model file (or Whisper directory) a resolved config section names."""
    if stage == "llm":
        return Path(section.model).expanduser() if section.model else default_llm_model()
    if stage == "stt":
        return Path(section.model).expanduser() if section.model else default_stt_model()
    if stage == "wake":
        return wake_model_path(section.engine, section.model)
    return Path(section.voice).expanduser() if section.voice else default_tts_voice()


def wake_model_path(engine: str, model: str) -> Path:
    """A wake model given by path, or the file a shipped name stands for in its package."""
    if Path(model).suffix in (".json", ".tflite"):
        return Path(model).expanduser()
    package = importlib.util.find_spec("pymicro_wakeword" if engine == "micro" else "pyopen_wakeword")
    if package is None or not package.submodule_search_locations:
        return Path(model)
    return Path(next(iter(package.submodule_search_locations))) / "models" / f"{model}.tflite"


def file_identity(path: Path) -> dict[str, Any]:
    """Path, size and modification time; for a directory (Whisper), of its files."""
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    identity: dict[str, Any] = {"path": str(path)}
    for item in files:
        try:
            stat = item.stat()
        except OSError:
            continue
        identity[item.name] = [stat.st_size, stat.st_mtime_ns]
    return identity


def package_versions(stage: str) -> dict[str, str]:
    versions = {}
    for name in PACKAGES[stage]:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def verdict_key(stage: str, section: dict[str, Any], cpu: CpuFacts, versions: dict[str, str],
                model: dict[str, Any]) -> str:
    """Everything that can change whether the engine's native code runs here, hashed."""
    text = json.dumps({"probe": PROBE_VERSION, "stage": stage, "cpu": cpu.fingerprint(),
                       "python": sys.version, "packages": versions, "model": model,
                       "settings": section}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class VerdictStore:
    """The verdicts file: read whole, written whole (temp file + rename), never fatal."""

    def __init__(self, path: Path):
        self.path = path

    def load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            _LOGGER.warning("engine verdicts %s unreadable (%s): probing again", self.path, error)
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, key: str, verdict: Verdict) -> None:
        entries = self.load()
        entries[key] = {"stage": verdict.stage, **verdict.as_dict(), "at_s": time.time()}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False,
                                             prefix=".verdicts-", encoding="utf-8") as handle:
                json.dump(entries, handle, indent=1, sort_keys=True)
            os.replace(handle.name, self.path)
        except OSError as error:  # an unwritable state dir: the next start probes again
            _LOGGER.warning("engine verdict not saved to %s (%s)", self.path, error)


def verdicts_path(config: Config) -> Path:
    if config.engines.verdicts_file:
        return Path(config.engines.verdicts_file).expanduser()
    return resolve_state_dir(config.state_dir) / VERDICTS_FILE


def signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


@dataclass(frozen=True)
class ChildResult:
    """One child's end: its answer (exit 0), its expected error, or how it died."""

    answer: dict[str, Any] | None
    error: str = ""  # an expected error's message (exit EXIT_EXPECTED)
    death: str = ""  # "SIGSEGV", "exit code 1", "no answer within 120 s"
    stderr: str = ""


Runner = Callable[[str, dict[str, Any], dict[str, Any], float], ChildResult]


def run_child(stage: str, section: dict[str, Any], extra: dict[str, Any], timeout_s: float
              ) -> ChildResult:
    """``python -m satellite.engines.probe_child``: the request on stdin, the answer in a file."""
    with tempfile.TemporaryDirectory(prefix="satellite-probe-") as folder:
        answer_path = Path(folder) / "answer.json"
        request = json.dumps({"stage": stage, "section": section, "answer": str(answer_path), **extra})
        env = {**os.environ, "CT2_VERBOSE": "1"}  # CTranslate2 says which ISA it picked
        try:
            done = subprocess.run([sys.executable, "-m", "satellite.engines.probe_child"],
                                  input=request, capture_output=True, text=True, env=env,
                                  timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as expired:
            stderr = expired.stderr.decode(errors="replace") if isinstance(expired.stderr, bytes) \
                else (expired.stderr or "")
            return ChildResult(None, death=f"no answer within {timeout_s:g} s", stderr=stderr)
        if done.returncode == 0 and answer_path.is_file():
            answer = json.loads(answer_path.read_text(encoding="utf-8"))
            return ChildResult(answer, stderr=done.stderr)
        if done.returncode == EXIT_EXPECTED and answer_path.is_file():
            error = json.loads(answer_path.read_text(encoding="utf-8")).get("error", "")
            return ChildResult(None, error=error, stderr=done.stderr)
        death = (signal_name(done.returncode) if done.returncode < 0
                 else f"exit code {done.returncode}")
        return ChildResult(None, death=death, stderr=done.stderr)


class EngineProbe:
    """Verdicts for the local engines of one config: cached, or probed in children."""

    def __init__(self, config: Config, sections: dict[str, Any], *, runner: Runner = run_child,
                 cpu: CpuFacts | None = None):
        self.config = config
        self.sections = sections  # stage -> resolved config section (catalog names made paths)
        self.runner = runner
        self.cpu = cpu or read_cpu_facts()
        self.store = VerdictStore(verdicts_path(config))

    def key(self, stage: str) -> str:
        section = self.sections[stage]
        return verdict_key(stage, dataclasses.asdict(section), self.cpu, package_versions(stage),
                           file_identity(model_path(stage, section)))

    def verdicts(self, stages: tuple[str, ...], *, fresh: bool = False,
                 extra: dict[str, dict[str, Any]] | None = None) -> dict[str, Verdict]:
        """A verdict per stage; ``fresh`` probes even where one is cached (``satellite check``).
        Stages are probed one after another: ``extra`` may chain them (TTS's audio to STT)."""
        known = {} if fresh else self.store.load()
        verdicts: dict[str, Verdict] = {}
        keys = {stage: self.key(stage) for stage in stages}
        missing = []
        for stage in stages:
            entry = known.get(keys[stage])
            if entry is None:
                missing.append(stage)
                continue
            verdicts[stage] = _from_entry(stage, entry)
            if verdicts[stage].line:
                _LOGGER.warning("%s (verdict kept from an earlier probe; satellite check probes "
                                "again)", verdicts[stage].line)
        if extra:  # chained: one after another
            probed = {stage: self._probe(stage, extra.get(stage, {})) for stage in missing}
        else:  # side by side: each child is its own process
            with ThreadPoolExecutor(max_workers=max(1, len(missing)),
                                    thread_name_prefix="probe") as pool:
                futures = {stage: pool.submit(self._probe, stage, {}) for stage in missing}
                probed = {stage: future.result() for stage, future in futures.items()}
        for stage, verdict in probed.items():
            verdicts[stage] = verdict
            if verdict.state != "unknown":
                self.store.save(keys[stage], verdict)
        return {stage: verdicts[stage] for stage in stages}

    def _probe(self, stage: str, extra: dict[str, Any]) -> Verdict:
        section = dataclasses.asdict(self.sections[stage])
        timeout_s = self.config.engines.probe_timeout_s
        _LOGGER.info("%s: probing its first inference in a child process", stage)
        first = self.runner(stage, section, extra, timeout_s)
        if first.answer is not None:
            return _answered(stage, "ok", first, {})
        if first.error:  # an expected error (missing model): loading in-process says it as usual
            return Verdict(stage, "unknown", detail=first.error)
        path = model_path(stage, self.sections[stage])
        name = path.name if path.name != "model" else f"{path.parent.name}/{path.name}"
        versions = ", ".join(f"{k} {v}" for k, v in package_versions(stage).items())
        where = f"model {name}; {versions}; CPU {self.cpu.describe()}"
        _LOGGER.error("%s engine died in its first inference: %s (%s); trying again with safe "
                      "settings (%s)", stage, first.death, where, SAFE_WORDS[stage])
        safe = self.runner(stage, {**section, **SAFE[stage]}, extra, timeout_s)
        if safe.answer is not None:
            verdict = _answered(stage, "safe", safe, SAFE[stage])
            verdict.line = (f"{stage} engine died in its first inference ({first.death}; {where}); "
                            f"it works with safe settings ({SAFE_WORDS[stage]}), which are used")
            _LOGGER.warning("%s", verdict.line)
            return verdict
        second = safe.death or f"error: {safe.error}"
        line = (f"{stage} engine is broken on this machine: its first inference died with "
                f"{first.death}, and with {second} under safe settings ({SAFE_WORDS[stage]}); {where}")
        _LOGGER.error("%s", line)
        return Verdict(stage, "broken", line, facts={"stderr_tail": _tail(safe.stderr or first.stderr)})


def _answered(stage: str, state: str, result: ChildResult, settings: dict[str, Any]) -> Verdict:
    answer = result.answer or {}
    facts = dict(answer.get("facts", {}))
    isa = ctranslate2_isa(result.stderr)
    if isa:
        facts["ctranslate2"] = isa
    return Verdict(stage, state, settings=dict(settings), facts=facts,
                   detail=str(answer.get("detail", "")), load_ms=answer.get("load_ms"),
                   infer_ms=answer.get("infer_ms"))


def ctranslate2_isa(stderr: str) -> str:
    """What CTranslate2 says of the CPU with CT2_VERBOSE=1 ("CPU: GenuineIntel (SSE4.1=true,
    AVX=true, AVX2=true, AVX512=true)", "Selected ISA: AVX512"), as one short string."""
    cpu = re.search(r"CPU: [^(]*\(([^)]*)\)", stderr)
    isa = re.search(r"Selected ISA: (\S+)", stderr)
    parts = []
    if isa:
        parts.append(f"ISA {isa.group(1)}")
    if cpu:
        parts.append(" ".join(item.split("=")[0] for item in cpu.group(1).split(", ")
                              if item.endswith("=true")))
    return "; ".join(parts)


def _from_entry(stage: str, entry: dict[str, Any]) -> Verdict:
    return Verdict(stage, str(entry.get("state", "ok")), str(entry.get("line", "")),
                   dict(entry.get("settings", {})), dict(entry.get("facts", {})), cached=True)


def _tail(text: str, lines: int = 3) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def safe_section(section: Any, verdict: Verdict | None) -> Any:
    """The config section an engine is loaded with: the SAFE overrides of a "safe" verdict."""
    if verdict is None or not verdict.settings:
        return section
    return dataclasses.replace(section, **verdict.settings)
