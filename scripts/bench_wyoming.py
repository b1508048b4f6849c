#!/usr/bin/env python3
"""Our Wyoming server vs wyoming-faster-whisper (STT) and wyoming-piper (TTS), measured by wyoming-bench.

All three servers run on this machine in one run, with the same models: the
tiny.en CTranslate2 directory and the en_US-joe-medium Piper voice that the
satellite ships. Each is started as its own process on a free loopback port
(ours with ``satellite serve``), benchmarked by the ``wyoming-bench`` CLI, and
stopped. The summary tables are parsed into a Markdown report with the
ratios ours/peer.

    .venv/bin/python scripts/bench_wyoming.py [--rounds 3] [--dev-dir DIR] [--out docs/benchmarks/wyoming.md]

STT corpus: the built-in sentences spoken with espeak-ng (Piper when espeak-ng is
missing), or the WAVs of --dev-dir DIR (DIR/manifest.tsv: file, reference text).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from wyoming.client import AsyncTcpClient
from wyoming.info import Describe

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from satellite.benchdata import SpeechClip, builtin_speech_set, manifest_clips  # noqa: E402
from satellite.config import load_config  # noqa: E402
from satellite.config.paths import default_stt_model, default_tts_voice  # noqa: E402
from satellite.engines.tts import PiperTts  # noqa: E402

BIN = Path(sys.executable).parent
READY_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _describes(port: int) -> bool:
    try:
        async with AsyncTcpClient("127.0.0.1", port) as client:
            await client.write_event(Describe().event())
            event = await asyncio.wait_for(client.read_event(), 5.0)
            return event is not None and event.type == "info"
    except (OSError, TimeoutError):
        return False


def wait_ready(port: int, process: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode} before it was ready")
        if asyncio.run(_describes(port)):
            return
        time.sleep(0.5)
    raise SystemExit(f"{name} not ready after {READY_TIMEOUT_S:.0f} s")


@contextlib.contextmanager
def server(name: str, argv: list[str], port: int, log_dir: Path) -> Iterator[str]:
    log = (log_dir / f"{name}.log").open("wb")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        wait_ready(port, process, name)
        print(f"bench: {name} ready on 127.0.0.1:{port}", file=sys.stderr)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def bench(*args: str) -> str:
    result = subprocess.run([str(BIN / "wyoming-bench"), *args], capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise SystemExit(f"wyoming-bench {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def parse_summary(output: str) -> dict[str, dict[str, dict[str, str]]]:
    """{mode: {server address: {column: value}}} from wyoming-bench's summary tables."""
    summary = output.split("Summary (lower is better)", 1)[-1]
    tables: dict[str, dict[str, dict[str, str]]] = {}
    mode = ""
    columns: list[str] = []
    for line in summary.splitlines():
        if match := re.match(r"\[(\w+)\]", line.strip()):
            mode, columns = match.group(1), []
            tables[mode] = {}
        elif line.strip().startswith("server "):
            columns = line.split()[1:]
        elif mode and columns and line.strip():
            cells = line.split()
            values = cells[-len(columns):]
            address = cells[0]
            tables[mode][address] = dict(zip(columns, values, strict=True))
    return tables


def average(runs: list[dict[str, dict[str, dict[str, str]]]]) -> dict[str, dict[str, dict[str, str]]]:
    """Mean of every numeric cell over the runs, per mode, server and column."""
    values: dict[tuple[str, str, str], list[float]] = {}
    units: dict[tuple[str, str, str], str] = {}
    for run in runs:
        for mode, rows in run.items():
            for address, row in rows.items():
                for column, cell in row.items():
                    try:
                        value = number(cell)
                    except ValueError:  # "n/a"
                        continue
                    values.setdefault((mode, address, column), []).append(value)
                    units[(mode, address, column)] = cell[-1] if cell[-1] in "%s" else ""
    table: dict[str, dict[str, dict[str, str]]] = {}
    for (mode, address, column), numbers in values.items():
        mean = sum(numbers) / len(numbers)
        unit = units[(mode, address, column)]
        cell = f"{mean:.1f}{unit}" if unit or abs(mean) >= 10 else f"{mean:.2f}"
        table.setdefault(mode, {}).setdefault(address, {})[column] = cell
    return table


def number(cell: str) -> float:
    return float(cell.rstrip("%s"))


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (f"{os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def speech_clips(dev_dir: Path | None, limit: int, directory: Path) -> tuple[list[SpeechClip], str]:
    """The STT corpus's clips, and which voice made them: --dev-dir's WAVs, else the built-in set spoken."""
    if dev_dir is not None:
        return manifest_clips(dev_dir)[:limit], f"the WAVs of {dev_dir}"
    speech = builtin_speech_set(directory, lambda: PiperTts(load_config(None, env={}, overrides={}).tts))
    return speech.clips(limit), speech.speaker.description


def corpus(directory: Path, clips: list[SpeechClip]) -> Path:
    """wyoming-bench's corpus layout: each WAV beside a .txt with its reference text."""
    for clip in clips:
        shutil.copy(clip.path, directory / clip.path.name)
        (directory / clip.path.name).with_suffix(".txt").write_text(clip.text + "\n", encoding="utf-8")
    return directory


def _version(distribution: str) -> str:
    if distribution == "sarai-satellite":
        from satellite import __version__

        return __version__
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def ratio(ours: str, peer: str) -> str:
    a, b = number(ours), number(peer)
    return f"{a / b:.2f}" if b else "n/a"


def report(stt: dict, tts: dict, ours: str, fw: str, piper: str, args: argparse.Namespace,
           speech_from: str) -> str:
    versions = {name: _version(name) for name in
                ("sarai-satellite", "wyoming-faster-whisper", "wyoming-piper", "wyoming-bench")}
    lines = [
        "# Wyoming benchmark: sarai-satellite vs wyoming-faster-whisper and wyoming-piper",
        "",
        f"Machine: {machine()}. Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "One run, the three servers up together on loopback, measured by `wyoming-bench`, ours "
        f"and the peer alternating round by round ({args.rounds} rounds after {args.warmup} "
        "warmup; each number is the mean over rounds; STT corpus: the first "
        f"{args.clips} clips; speech: {speech_from}). Same models: Whisper tiny.en "
        "(CTranslate2 int8, beam 5) and Piper en_US-joe-medium. Regenerate with "
        "`.venv/bin/python scripts/bench_wyoming.py`.",
        "",
        f"Servers: ours `satellite serve --uri tcp://127.0.0.1:PORT` ({versions['sarai-satellite']}); "
        f"wyoming-faster-whisper {versions['wyoming-faster-whisper']} `--model <tiny.en dir> "
        "--local-files-only --language en --beam-size 5 --compute-type int8 --cpu-threads <cores>`; "
        f"wyoming-piper {versions['wyoming-piper']} `--voice en_US-joe-medium --data-dir <the "
        "satellite's .onnx/.onnx.json symlinked> --local-files-only`; "
        f"wyoming-bench {versions['wyoming-bench']}. The machine is shared with other work, so "
        "absolute numbers move between runs; the ratios, measured in alternation, move less.",
        "",
        "## STT (ours vs wyoming-faster-whisper)",
        "",
        "| mode | server | WER | Total mean (ms) | RTF |",
        "|---|---|---|---|---|",
    ]
    for mode, rows in stt.items():
        for address, label in ((ours, "ours"), (fw, "faster-whisper")):
            row = rows.get(address)
            if row:
                lines.append(f"| {mode} | {label} | {row['WER']} | {row['Total_mean']} | "
                             f"{row['RTF_mean']} |")
    non = stt.get("non_streaming", {})
    if ours in non and fw in non:
        lines += ["", f"Ratio ours/peer, non-streaming total latency: "
                  f"**{ratio(non[ours]['Total_mean'], non[fw]['Total_mean'])}** "
                  f"(WER {non[ours]['WER']} vs {non[fw]['WER']}). Goal: <= 1.0 at equal or better WER."]
    lines += ["", "## TTS (ours vs wyoming-piper)", "",
              "| mode | server | TTFA mean (ms) | TTFA p95 (ms) | Total mean (ms) | RTF (actual) |",
              "|---|---|---|---|---|---|"]
    for mode, rows in tts.items():
        for address, label in ((ours, "ours"), (piper, "wyoming-piper")):
            row = rows.get(address)
            if row:
                lines.append(f"| {mode} | {label} | {row['TTFT_mean']} | {row['TTFT_p95']} | "
                             f"{row['Total_mean']} | {row['RTF_act']} |")
    lines.append("")
    for mode, rows in tts.items():
        if ours in rows and piper in rows:
            lines.append(f"Ratio ours/peer, {mode} time to first audio: "
                         f"**{ratio(rows[ours]['TTFT_mean'], rows[piper]['TTFT_mean'])}**; total "
                         f"{ratio(rows[ours]['Total_mean'], rows[piper]['Total_mean'])}.")
    lines += ["", "Goal: streaming time to first audio <= 0.5x wyoming-piper's.", "",
              "Why ours starts sooner: the first three words of a reply are synthesized on their own "
              "(`tts.lead_words`), and audio is sent from memory as each piece is ready; "
              "wyoming-piper synthesizes each whole sentence to a temporary WAV first.",
              "The price is a slightly longer total: one more Piper call per reply for the lead "
              "words, and onnxruntime's memory arena is off by default (`tts.low_memory`, about "
              "190 MB less memory). What a listener hears first is what the goal measures.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--clips", type=int, default=40, help="clips in the STT corpus")
    parser.add_argument("--dev-dir", type=Path, help="WAVs and a manifest.tsv for the STT corpus "
                        "(default: the built-in sentences spoken with espeak-ng, or Piper without it)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks" / "wyoming.md")
    args = parser.parse_args()
    threads = str(os.cpu_count() or 2)
    with tempfile.TemporaryDirectory(prefix="bench-wyoming-") as tmp:
        tmp_dir = Path(tmp)
        (tmp_dir / "corpus").mkdir()
        (tmp_dir / "piper").mkdir()
        (tmp_dir / "fw").mkdir()
        clips, speech_from = speech_clips(args.dev_dir, args.clips, tmp_dir / "speech")
        corpus_dir = corpus(tmp_dir / "corpus", clips)
        voice = default_tts_voice()
        for path in (voice, Path(f"{voice}.json")):
            (tmp_dir / "piper" / path.name).symlink_to(path)
        port = free_port()
        ours_argv = [sys.executable, "-m", "satellite", "--state-dir", str(tmp_dir / "state"), "--log-level",
                     "WARNING", "serve", "--uri", f"tcp://127.0.0.1:{port}", "--no-health",
                     "--no-zeroconf"]
        fw_port, piper_port = free_port(), free_port()
        fw_argv = [str(BIN / "wyoming-faster-whisper"), "--uri", f"tcp://127.0.0.1:{fw_port}",
                   "--model", str(default_stt_model()), "--data-dir", str(tmp_dir / "fw"),
                   "--local-files-only", "--language", "en", "--beam-size", "5",
                   "--compute-type", "int8", "--cpu-threads", threads]
        piper_argv = [str(BIN / "wyoming-piper"), "--uri", f"tcp://127.0.0.1:{piper_port}",
                      "--voice", voice.name.removesuffix(".onnx"), "--data-dir", str(tmp_dir / "piper"),
                      "--local-files-only"]
        voice_config = json.dumps({"voice": voice.name.removesuffix(".onnx")})
        stt_args = ["--corpus", str(corpus_dir), "--rounds", "1", "--warmup", "0"]
        tts_args = ["--config", voice_config, "--rounds", "1", "--warmup", "0"]
        raw: list[str] = []
        stt_runs: list[dict] = []
        tts_runs: list[dict] = []
        with contextlib.ExitStack() as stack:
            ours = stack.enter_context(server("ours", ours_argv, port, tmp_dir))
            fw = stack.enter_context(server("wyoming-faster-whisper", fw_argv, fw_port, tmp_dir))
            piper = stack.enter_context(server("wyoming-piper", piper_argv, piper_port, tmp_dir))
            for _ in range(args.warmup):  # untimed: first calls pay for lazy initialisation
                for address in (ours, fw):
                    bench("stt", address, *stt_args)
                for address in (ours, piper):
                    bench("tts", address, *tts_args)
            # Alternate ours and the peer round by round, so the load of a shared machine
            # falls on both alike.
            for round_no in range(args.rounds):
                print(f"bench: round {round_no + 1}/{args.rounds}", file=sys.stderr)
                for address in (ours, fw) if round_no % 2 == 0 else (fw, ours):
                    raw.append(bench("stt", address, *stt_args))
                    stt_runs.append(parse_summary(raw[-1]))
                for address in (ours, piper) if round_no % 2 == 0 else (piper, ours):
                    raw.append(bench("tts", address, *tts_args))
                    tts_runs.append(parse_summary(raw[-1]))
    stt, tts = average(stt_runs), average(tts_runs)
    text = report(stt, tts, ours, fw, piper, args, speech_from)
    text += "\n## Raw wyoming-bench output (every round)\n\n```\n" + "\n".join(raw) + "\n```\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text.split("## Raw", 1)[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
