"""The engine probe: verdicts from children that answer, die or fail as expected, kept per CPU,
package versions and model file; and real children, one of which really crashes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from satellite.config import Config
from satellite.engines import RESOLVE
from satellite.engines.cpu import parse_cpuinfo
from satellite.engines.probe import SAFE, ChildResult, EngineProbe, run_child
from tests.conftest import make_config

CPU = parse_cpuinfo("model name: Test CPU\nflags: sse4_2 avx avx2 amx_int8\n", "x86_64", 2)
OTHER_CPU = parse_cpuinfo("model name: Test CPU\nflags: sse4_2 avx avx2\n", "x86_64", 2)
ANSWER = {"load_ms": 10.0, "infer_ms": 20.0, "detail": "fine", "facts": {"threads": 1}}


class Children:
    """A stand-in for the child processes: each call takes the next scripted end."""

    def __init__(self, *ends: ChildResult):
        self.ends = list(ends)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, stage: str, section: dict[str, Any], extra: dict[str, Any],
                 timeout_s: float) -> ChildResult:
        self.calls.append((stage, section))
        return self.ends.pop(0)


def crash(signal: str = "SIGSEGV") -> ChildResult:
    return ChildResult(None, death=signal, stderr="Fatal Python error: Segmentation fault")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 64)
    return make_config(tmp_path, llm__model=str(model))


def probe(config: Config, children: Children, cpu: Any = CPU) -> EngineProbe:
    return EngineProbe(config, {"llm": RESOLVE["llm"](config)}, runner=children, cpu=cpu)


def test_an_engine_that_answers_is_ok_and_not_probed_again(config: Config) -> None:
    children = Children(ChildResult(ANSWER))
    assert probe(config, children).verdicts(("llm",))["llm"].state == "ok"
    again = probe(config, Children()).verdicts(("llm",))["llm"]  # no child: the list is empty
    assert again.state == "ok" and again.cached and again.facts == {"threads": 1}
    assert len(children.calls) == 1


def test_a_crash_is_tried_again_with_safe_settings_which_are_then_used(config: Config) -> None:
    children = Children(crash(), ChildResult(ANSWER))
    verdict = probe(config, children).verdicts(("llm",))["llm"]
    assert verdict.state == "safe" and verdict.settings == SAFE["llm"]
    assert children.calls[1][1]["extra_buffers"] == "disabled" and children.calls[1][1]["n_threads"] == 1
    assert "SIGSEGV" in verdict.line and "model.gguf" in verdict.line and "amx_int8" in verdict.line
    cached = probe(config, Children()).verdicts(("llm",))["llm"]
    assert cached.state == "safe" and cached.settings == SAFE["llm"]


def test_two_crashes_make_a_broken_engine(config: Config) -> None:
    verdict = probe(config, Children(crash(), crash("SIGILL"))).verdicts(("llm",))["llm"]
    assert verdict.state == "broken"
    assert "died with SIGSEGV, and with SIGILL under safe settings" in verdict.line
    assert "llama_cpp_python " in verdict.line and "CPU Test CPU" in verdict.line
    assert probe(config, Children()).verdicts(("llm",))["llm"].state == "broken"


def test_an_expected_error_leaves_no_verdict(config: Config) -> None:
    children = Children(ChildResult(None, error="LLM file x does not exist"),
                        ChildResult(ANSWER))
    assert probe(config, children).verdicts(("llm",))["llm"].state == "unknown"
    assert probe(config, children).verdicts(("llm",))["llm"].state == "ok"  # probed again
    assert len(children.calls) == 2


def test_a_changed_model_package_or_cpu_probes_again(config: Config,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    children = Children(*[ChildResult(ANSWER)] * 5)
    probe(config, children).verdicts(("llm",))
    Path(config.llm.model).write_bytes(b"GGUF" + b"\1" * 80)  # another model file at the same path
    probe(config, children).verdicts(("llm",))
    probe(config, children, cpu=OTHER_CPU).verdicts(("llm",))
    monkeypatch.setattr("satellite.engines.probe.package_versions",
                        lambda stage: {"llama_cpp_python": "0.3.99"})
    probe(config, children).verdicts(("llm",))
    probe(config, children).verdicts(("llm",))  # nothing changed since the last one
    assert len(children.calls) == 4


def test_check_probes_afresh(config: Config) -> None:
    children = Children(ChildResult(ANSWER), crash(), crash())
    probe(config, children).verdicts(("llm",))
    assert probe(config, children).verdicts(("llm",), fresh=True)["llm"].state == "broken"
    assert probe(config, Children()).verdicts(("llm",))["llm"].state == "broken"  # what check saw


def test_an_unwritable_state_dir_still_starts(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    config = make_config(tmp_path, engines__verdicts_file=str(blocker / "verdicts.json"))
    verdict = EngineProbe(config, {"llm": RESOLVE["llm"](config)}, runner=Children(ChildResult(ANSWER)),
                          cpu=CPU).verdicts(("llm",))["llm"]
    assert verdict.state == "ok"


# -- real children ---------------------------------------------------------------------------

@pytest.mark.slow
def test_a_real_child_answers_with_what_the_engine_runs_on(base_config: Config) -> None:
    section = dataclasses.asdict(RESOLVE["llm"](base_config))
    result = run_child("llm", section, {}, 120.0)
    assert result.answer is not None, result
    assert "CPU :" in result.answer["facts"]["llama.cpp"] and result.answer["facts"]["threads"] >= 1


CRASH_WITH_EXTRA_BUFFERS = '''
import ctypes

import satellite.engines.llm as llm

real_stream = llm.LlamaCppLlm.stream


def stream(self, *args, **kwargs):
    if self.extra_buffers:
        ctypes.string_at(0)  # as llama.cpp's AMX path does on the first decode
    return real_stream(self, *args, **kwargs)


llm.LlamaCppLlm.stream = stream
'''


@pytest.mark.slow
def test_a_real_crash_falls_back_to_the_safe_settings_for_real(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The LLM dies with SIGSEGV while its extra buffers are on, in a real child; the retry with
    the safe settings loads and runs the real default model."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(CRASH_WITH_EXTRA_BUFFERS)
    monkeypatch.setenv("PYTHONPATH", str(site))
    config = make_config(tmp_path, llm__extra_buffers="enabled")
    verdict = EngineProbe(config, {"llm": RESOLVE["llm"](config)}).verdicts(("llm",))["llm"]
    assert verdict.state == "safe", verdict
    assert "SIGSEGV" in verdict.line and verdict.facts["extra_buffers"] is False
    assert verdict.facts["threads"] == 1 and verdict.detail.startswith("SmolLM2")
