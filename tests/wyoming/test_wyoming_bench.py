"""The third-party client ``wyoming-bench`` against our server: info, tts and stt complete without error."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest

from satellite.wyoming import WyomingService
from tests.conftest import DevClip

pytestmark = pytest.mark.asyncio(loop_scope="session")
BENCH_TIMEOUT_S = 300.0


def bench_command() -> str:
    beside = Path(sys.executable).parent / "wyoming-bench"
    found = str(beside) if beside.is_file() else shutil.which("wyoming-bench")
    if found is None:
        pytest.fail("wyoming-bench is not installed (scripts/setup --test installs it)")
    return found


async def run_bench(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        bench_command(), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), BENCH_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    return text


@pytest.fixture
def corpus(tmp_path: Path, dev_set: list[DevClip]) -> Path:
    directory = tmp_path / "corpus"
    directory.mkdir()
    for clip in dev_set[:4:2]:
        shutil.copy(clip.path, directory / clip.path.name)
        (directory / clip.path.with_suffix(".txt").name).write_text(clip.text + "\n", encoding="utf-8")
    return directory


async def test_wyoming_bench_info(service: WyomingService) -> None:
    output = await run_bench("info", f"127.0.0.1:{service.port}")
    assert "sarai-piper" in output and "sarai-whisper" in output


async def test_wyoming_bench_tts_both_modes(service: WyomingService) -> None:
    output = await run_bench("tts", f"127.0.0.1:{service.port}", "--mode", "both", "--rounds", "1",
                             "--warmup", "0", "--texts", "Hello there. The kitchen lights are on now.")
    assert "error" not in output.lower(), output


async def test_wyoming_bench_stt_both_modes(service: WyomingService, corpus: Path) -> None:
    output = await run_bench("stt", "--corpus", str(corpus), "--mode", "both", "--rounds", "1",
                             "--warmup", "0", f"127.0.0.1:{service.port}")
    assert "error" not in output.lower(), output
    # One final transcript, nothing streamed: the server no longer claims transcript streaming.
    assert "skipping streaming mode" in output and "ok=2 fail=0" in output, output
