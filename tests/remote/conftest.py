"""The peers' servers, started once per test session (each loads its model once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.remote.servers import ServerProcess, llama_server, piper_server, whisper_server


@pytest.fixture(scope="session")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    where = tmp_path_factory.mktemp("whisper-server")
    with whisper_server(where / "data", where / "log.txt") as server:
        yield server


@pytest.fixture(scope="session")
def piper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with piper_server(tmp_path_factory.mktemp("piper-server") / "log.txt") as server:
        yield server


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with llama_server(tmp_path_factory.mktemp("llama-server") / "log.txt") as server:
        yield server
