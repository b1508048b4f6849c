"""The top-level ``language`` key: one setting for a household, below anything set explicitly."""

from __future__ import annotations

from pathlib import Path

import pytest

from satellite.config import load_config
from satellite.config.languages import SPANISH_SYSTEM_PROMPT
from satellite.config.schema import DEFAULT_SYSTEM_PROMPT
from satellite.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_language_es_sets_every_language_dependent_default() -> None:
    config = load_config(None, env={"SATELLITE__LANGUAGE": "es"})
    assert (config.language, config.stt.language, config.intent.language) == ("es", "es", "es")
    assert config.llm.system_prompt == SPANISH_SYSTEM_PROMPT
    assert "cocina" in config.intent.areas and "persianas" in config.intent.entities


def test_the_shipped_yaml_with_language_es_is_spanish_throughout() -> None:
    config = load_config(REPO / "config" / "satellite.yaml", env={}, overrides={"language": "es"})
    assert (config.stt.language, config.intent.language) == ("es", "es")
    assert config.llm.system_prompt == SPANISH_SYSTEM_PROMPT


def test_an_explicit_key_wins_over_the_language() -> None:
    config = load_config(None, env={}, overrides={"language": "es", "stt.language": "en",
                                                  "intent.areas": "patio"})
    assert (config.stt.language, config.intent.language) == ("en", "es")
    assert config.intent.areas == ["patio"]


def test_a_language_without_its_own_tables_asks_the_model_to_reply_in_it() -> None:
    config = load_config(None, env={}, overrides={"language": "de"})
    assert (config.stt.language, config.intent.language) == ("de", "de")
    assert config.llm.system_prompt.startswith(DEFAULT_SYSTEM_PROMPT)
    assert "language the user speaks" in config.llm.system_prompt


def test_english_changes_nothing() -> None:
    assert load_config(None, env={}, overrides={"language": "en"}) == load_config(None, env={})


@pytest.mark.parametrize("value", ["Spanish", "ES", "", "e"])
def test_a_language_that_is_not_a_code_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="'language' = .*expected a language code such as en or es"):
        load_config(None, env={}, overrides={"language": value})
