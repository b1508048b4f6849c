"""The command line, run as a user runs it: real processes, real models, exit codes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from tests.conftest import dev_wav


def satellite(*args: str, state: Path, timeout: float = 180, env: dict | None = None
              ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SATELLITE")}
    full_env["SATELLITE__STATE_DIR"] = str(state)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "satellite", *args], capture_output=True,
                          text=True, timeout=timeout, env=full_env, stdin=subprocess.DEVNULL)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--set", "stt.beam_size=abc", "cache", "stats"], ["stt.beam_size", "'abc'", "integer"]),
        (["--set", "nonsense", "cache", "stats"], ["KEY=VALUE"]),
        (["--set", "llm.colour=red", "cache", "stats"], ["unknown key 'llm.colour'"]),
        (["--config", "/nonexistent/satellite.yaml", "cache", "stats"], ["does not exist"]),
        (["--llm-model", "/nonexistent/model.gguf", "ask", "hi"], ["/nonexistent/model.gguf",
                                                                  "does not exist", "llm.model"]),
        (["--stt-model", "/nonexistent", "transcribe", "dev:syn_01a.wav"],
         ["/nonexistent", "stt.model"]),
        (["transcribe", "/nonexistent.wav"], ["no such file"]),
        (["say", "", "-o", "/tmp/x.wav"], ["empty"]),
        (["bench", "--dev-dir", "/nonexistent"], ["/nonexistent/manifest.tsv", "not found", "--dev-dir"]),
    ],
)
def test_bad_input_is_one_clear_line_and_nonzero_exit(tmp_path: Path, args: list[str],
                                                       fragments: list[str]) -> None:
    args = [str(dev_wav(a.removeprefix("dev:"))) if a.startswith("dev:") else a for a in args]
    assert_clean_failure(satellite(*args, state=tmp_path), *fragments)


def test_bad_yaml_value_in_file(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("vad:\n  frame_ms: 25\n")
    assert_clean_failure(satellite("--config", str(config), "cache", "stats", state=tmp_path),
                         "vad.frame_ms", "25")


def test_corrupt_models_are_named(tmp_path: Path) -> None:
    gguf = tmp_path / "broken.gguf"
    gguf.write_bytes(b"this is not a model" * 100)
    assert_clean_failure(satellite("--llm-model", str(gguf), "ask", "hi", state=tmp_path),
                         "broken.gguf", "not a GGUF")
    voice = tmp_path / "broken.onnx"
    voice.write_bytes(b"\x00junk" * 1000)
    from satellite.config.paths import default_tts_voice

    (tmp_path / "broken.onnx.json").write_text(Path(f"{default_tts_voice()}.json").read_text())
    assert_clean_failure(satellite("--voice", str(voice), "say", "hello", "-o",
                                   str(tmp_path / "o.wav"), state=tmp_path),
                         "broken.onnx", "cannot be loaded")


def test_not_a_wav_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.wav"
    bogus.write_text("shopping list: eggs, bread")
    assert_clean_failure(satellite("transcribe", str(bogus), state=tmp_path), "not a WAV")


def test_transcribe_prints_the_words(tmp_path: Path) -> None:
    proc = satellite("transcribe", str(dev_wav("syn_01a.wav")), state=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "kitchen lights" in proc.stdout.lower()


def test_say_writes_a_wav(tmp_path: Path) -> None:
    out = tmp_path / "hello.wav"
    proc = satellite("say", "Hello from the closet.", "-o", str(out), state=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with wave.open(str(out)) as wav:
        assert wav.getframerate() == 22050 and wav.getnchannels() == 1
        assert wav.getnframes() / 22050 > 0.8


def test_ask_streams_a_reply(tmp_path: Path) -> None:
    proc = satellite("ask", "What is the capital of France?", state=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "paris" in proc.stdout.lower()


def test_turn_answers_and_cache_hits_across_restart(tmp_path: Path) -> None:
    question = str(dev_wav("syn_17a.wav"))
    first = satellite("turn", "--input", question, "--output", str(tmp_path / "r1.wav"), "--json",
                      state=tmp_path)
    assert first.returncode == 0, first.stderr
    one = json.loads(first.stdout)
    assert one["timings"]["source"] == "llm" and one["reply"]
    assert one["audio_s"] > 0.3 and (tmp_path / "r1.wav").stat().st_size > 10000
    second = satellite("turn", "--input", question, "--output", str(tmp_path / "r2.wav"), "--json",
                       state=tmp_path)
    two = json.loads(second.stdout)
    assert two["timings"]["source"] == "cache"
    assert two["reply"] == one["reply"]
    assert (tmp_path / "r2.wav").read_bytes() == (tmp_path / "r1.wav").read_bytes()
    stats = satellite("cache", "stats", state=tmp_path)
    assert "entries:      1" in stats.stdout and "total hits:   1" in stats.stdout
    cleared = satellite("cache", "clear", state=tmp_path)
    assert "cleared 1" in cleared.stdout


def test_turn_prints_transcript_reply_and_timings(tmp_path: Path) -> None:
    proc = satellite("turn", "--input", str(dev_wav("syn_25a.wav")), state=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "you said:" in proc.stdout and "joke" in proc.stdout.lower()
    assert "reply:" in proc.stdout and "first audio" in proc.stdout


def check_rows(stdout: str) -> dict[str, str]:
    """The state column of ``satellite check``'s table, by stage."""
    return {line.split()[0]: line.split()[1] for line in stdout.splitlines()
            if line.split() and line.split()[0] in ("tts", "stt", "llm", "wake")}


def test_check_loads_every_model(tmp_path: Path) -> None:
    proc = satellite("check", state=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert check_rows(proc.stdout) == {"tts": "ok", "stt": "ok", "llm": "ok", "wake": "ok"}
    assert "heard 'testing" in proc.stdout.lower()  # Whisper hears Piper's "Testing one two three."
    cpu = proc.stdout.splitlines()[0]
    assert cpu.startswith("cpu: ") and " cores, " in cpu  # what the engines run on
    assert "extra buffers (repack) " in proc.stdout and "CTranslate2 ISA " in proc.stdout
    verdicts = json.loads((tmp_path / "engine-verdicts.json").read_text())
    assert sorted(v["stage"] for v in verdicts.values()) == ["llm", "stt", "tts", "wake"]


def test_check_reports_a_broken_model_and_fails(tmp_path: Path) -> None:
    proc = satellite("--llm-model", str(tmp_path / "missing.gguf"), "check", state=tmp_path)
    assert proc.returncode == 1
    assert "FAILED" in proc.stdout and "missing.gguf" in proc.stdout


def test_bench_reports_stages_memory_and_startup(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = satellite("bench", "--clips", "3", "--json", str(out), state=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "end of utterance -> first audio" in proc.stdout
    assert "speech: espeak-ng 1." in proc.stdout
    figures = json.loads(out.read_text())
    assert figures["peak_rss_mb"] > 100 and 0 < figures["ready_s"] < 60
    assert len(figures["turns"]) == 3 and all(t["first_audio_ms"] for t in figures["turns"])


def test_bench_without_espeak_speaks_with_the_piper_voice(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = satellite("bench", "--clips", "1", "--json", str(out), state=tmp_path,
                     env={"PATH": str(tmp_path / "no-espeak")})
    assert proc.returncode == 0, proc.stderr
    assert "speech: Piper en_US-joe-medium (espeak-ng is not on PATH)" in proc.stdout
    turns = json.loads(out.read_text())["turns"]
    assert len(turns) == 1 and "kitchen" in turns[0]["transcript"].lower()


def test_bench_reads_a_dev_dir(tmp_path: Path) -> None:
    dev_dir = tmp_path / "dev"
    dev_dir.mkdir()
    (dev_dir / "q.wav").write_bytes(dev_wav("syn_15a.wav").read_bytes())
    (dev_dir / "manifest.tsv").write_text("q.wav\tlock the front door\n", encoding="utf-8")
    proc = satellite("bench", "--dev-dir", str(dev_dir), "--json", str(tmp_path / "b.json"), state=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"speech: the WAVs of {dev_dir}" in proc.stdout
    assert "front door" in json.loads((tmp_path / "b.json").read_text())["turns"][0]["transcript"].lower()


def test_bench_answers_scores_every_shipped_question(tmp_path: Path) -> None:
    from satellite.benchdata.answers import load_questions

    out = tmp_path / "answers.json"
    proc = satellite("bench", "--answers", "--language", "all", "--json", str(out), state=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "| language | kind | n | right | wrong | unsure | unfitting | first token p50 |" in proc.stdout
    rows = json.loads(out.read_text())
    assert [r["question"] for r in rows] == [q.text for q in load_questions()]
    assert {r["verdict"] for r in rows} <= {"right", "wrong", "unsure", "unfitting"}
    exact = [r for r in rows if r["kind"] == "exact"]
    assert {r["language"] for r in exact} == {"en", "es"}
    assert all(r["verdict"] == "right" and r["source"] == "local" for r in exact), exact  # computed
