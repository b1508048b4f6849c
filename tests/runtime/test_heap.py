"""The heap limits, in a fresh process each (glibc takes the arena limit for the whole process)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

PROBE = "from satellite.runtime.heap import limit_arenas, trim_heap; print(limit_arenas(), trim_heap())"


def probe(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.split("\n")[0]


def test_glibc_takes_the_arena_limit() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    assert probe(env).startswith("True ")


def test_an_arena_limit_from_the_environment_is_left_alone() -> None:
    assert probe({**os.environ, "MALLOC_ARENA_MAX": "4"}).startswith("False ")
