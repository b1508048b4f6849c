"""The engines' threads are nicer than the audio loop's (Linux: a niceness per thread)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from satellite.audio import Pcm
from satellite.engines import load_engines
from satellite.pipeline.scheduler import EngineScheduler
from satellite.runtime.priority import ENGINE_NICENESS, lower_thread_priority
from tests.conftest import make_config

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/task"),
                                reason="a niceness per thread is Linux's")


def niceness(thread_id: int | None = None) -> int:
    """A thread's niceness, read from the kernel (this thread's by default)."""
    tid = threading.get_native_id() if thread_id is None else thread_id
    with open(f"/proc/self/task/{tid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[16])  # field 19; 3 precede the ")"


def niceness_of_all() -> dict[int, int]:
    """Every living thread's niceness (one that ends meanwhile is left out)."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            out[int(tid)] = niceness(int(tid))
        except FileNotFoundError:
            continue
    return out


def test_a_thread_lowers_its_own_priority_and_no_other() -> None:
    mine = niceness()
    with ThreadPoolExecutor(max_workers=1) as pool:
        lowered = pool.submit(lambda: (lower_thread_priority(), niceness())).result()
        again = pool.submit(lambda: (lower_thread_priority(), niceness())).result()
    assert lowered == (mine + ENGINE_NICENESS, mine + ENGINE_NICENESS)
    assert again == lowered  # once: not 10 on a second call
    assert niceness() == mine


async def test_engine_units_run_nicer_than_the_loop() -> None:
    scheduler = EngineScheduler(workers=2, max_queue=2)
    try:
        assert await scheduler.run("stt", niceness) == niceness() + ENGINE_NICENESS
    finally:
        scheduler.shutdown()


def test_the_engines_pools_inherit_the_loading_thread_s_priority(tmp_path: Path) -> None:
    """What the daemon does: the models load in a thread lowered first (its executor's), and the
    threads Whisper's and Piper's libraries start (at load or at first use, from the engine
    threads) are as nice as it."""
    base = niceness()
    before = set(niceness_of_all())
    config = make_config(tmp_path)
    with ThreadPoolExecutor(max_workers=1, initializer=lower_thread_priority) as loading:
        engines = loading.submit(load_engines, config, None, ("stt", "tts")).result()
    with ThreadPoolExecutor(max_workers=1, initializer=lower_thread_priority) as engine:
        engine.submit(engines.stt.transcribe, Pcm.silence(1.0)).result()
        engine.submit(lambda: list(engines.tts.synthesize("Hello there.", None))).result()
    started = {tid: nice for tid, nice in niceness_of_all().items() if tid not in before}
    assert len(started) >= 2  # the libraries' own (the loader and the engine thread have ended)
    assert all(nice == base + ENGINE_NICENESS for nice in started.values()), started
