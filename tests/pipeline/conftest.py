"""The turn service on the real default models, for the pipeline's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from satellite.config import Config
from satellite.engines import Engines
from satellite.pipeline import TurnService, create_turn_service
from tests.conftest import make_config


@pytest.fixture
def real_turns(tmp_path: Path, engines: Engines) -> TurnService:
    config: Config = make_config(tmp_path, llm__max_tokens=160, llm__max_sentences=6)
    return create_turn_service(config, engines)
