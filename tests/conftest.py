"""Shared fixtures: the real engines are loaded once per test run (session scope)."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from satellite.config import Config, load_config
from satellite.engines import Engines, load_engines

REPO = Path(__file__).resolve().parent.parent
DEV_DIR = REPO.parent / "shared" / "data" / "dev"


@dataclasses.dataclass(frozen=True)
class DevClip:
    path: Path
    text: str


def dev_clips() -> list[DevClip]:
    manifest = DEV_DIR / "manifest.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8") as handle:
        return [DevClip(DEV_DIR / row[0], row[1]) for row in csv.reader(handle, delimiter="\t")]


@pytest.fixture(scope="session")
def dev_set() -> list[DevClip]:
    clips = dev_clips()
    if not clips:
        pytest.fail(f"dev speech set not found in {DEV_DIR}")
    return clips


def make_config(tmp_path: Path, **overrides: object) -> Config:
    """Defaults, with the state dir under ``tmp_path`` and dotted-key overrides."""
    values = {"state_dir": str(tmp_path / "state"), "log.level": "INFO"}
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_config(None, env={}, overrides=values)


@pytest.fixture(scope="session")
def base_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return make_config(tmp_path_factory.mktemp("session"))


@pytest.fixture(scope="session")
def engines(base_config: Config) -> Iterator[Engines]:
    """Whisper tiny.en, SmolLM2-135M and Piper joe-medium, loaded once."""
    yield load_engines(base_config)
