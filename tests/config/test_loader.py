"""Config validation: each mistake is one message naming the key, the value and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from satellite.config import Config, load_config
from satellite.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_defaults_need_no_file() -> None:
    config = load_config(None, env={})
    assert config == Config()
    assert config.llm.max_sentences == 3


def test_shipped_yaml_documents_exactly_the_defaults() -> None:
    assert load_config(REPO / "config" / "satellite.yaml", env={}) == Config()


def test_every_field_is_commented_in_the_shipped_yaml() -> None:
    import dataclasses

    text = (REPO / "config" / "satellite.yaml").read_text()
    for section in dataclasses.fields(Config):
        default = getattr(Config(), section.name)
        if not dataclasses.is_dataclass(default):
            continue
        for field in dataclasses.fields(default):
            # Keys the top-level 'language' sets are there commented out, so that it decides.
            assert f"  {field.name}:" in text or f"  # {field.name}:" in text, \
                f"{section.name}.{field.name} missing from yaml"


@pytest.mark.parametrize(
    ("yaml_text", "fragments"),
    [
        ("stt:\n  beam_sise: 3\n", ["stt.beam_sise", "expected one of", "beam_size"]),
        ("sttt:\n  beam_size: 3\n", ["sttt"]),
        ("stt:\n  beam_size: five\n", ["stt.beam_size", "'five'", "integer"]),
        ("stt:\n  beam_size: 0\n", ["stt.beam_size", ">= 1"]),
        ("llm:\n  temperature: 9\n", ["llm.temperature", "<= 2.0"]),
        ("llm:\n  temperature: true\n", ["llm.temperature", "number"]),
        ("vad:\n  frame_ms: 25\n", ["vad.frame_ms", "10, 20, 30"]),
        ("wake:\n  engine: siri\n", ["wake.engine", "none, micro, openwakeword, phrase"]),
        ("cache:\n  enabled: maybe\n", ["cache.enabled", "true or false"]),
        ("llm:\n  stop: 3\n", ["llm.stop", "list"]),
        ("stt: 5\n", ["stt", "section"]),
        ("- a\n- b\n", ["mapping"]),
        ("stt: [\n", ["not valid YAML", "line"]),
    ],
)
def test_bad_values_name_key_value_and_expectation(tmp_path: Path, yaml_text: str,
                                                   fragments: list[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    for fragment in fragments:
        assert fragment in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml", env={})


def test_environment_overrides_file_and_cli_overrides_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("llm:\n  max_tokens: 50\n")
    env = {"SATELLITE__LLM__MAX_TOKENS": "60", "SATELLITE__CACHE__ENABLED": "false"}
    assert load_config(path, env=env).llm.max_tokens == 60
    assert load_config(path, env=env).cache.enabled is False
    assert load_config(path, env=env, overrides={"llm.max_tokens": "70"}).llm.max_tokens == 70


def test_environment_errors_name_the_variable_path() -> None:
    with pytest.raises(ConfigError, match="llm.max_tokens"):
        load_config(None, env={"SATELLITE__LLM__MAX_TOKENS": "lots"})


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("stt:\n  beam_size: 2\n")
    assert load_config(None, env={"SATELLITE_CONFIG": str(path)}).stt.beam_size == 2


def test_lists_accept_comma_separated_text() -> None:
    config = load_config(None, env={}, overrides={"intent.areas": "attic, cellar"})
    assert config.intent.areas == ["attic", "cellar"]


def test_barge_in_is_on_by_default_and_needs_no_wake_word_model() -> None:
    assert load_config(None, env={}).audio.barge_in is True  # (with the canceller: #19)
    config = load_config(None, env={}, overrides={"wake.engine": "none"})  # stop words still work
    assert config.audio.barge_in is True and config.audio.echo_cancel is True


def test_which_keys_reload_live_is_in_the_schema() -> None:
    from satellite.config.schema import live_keys

    keys = live_keys()
    assert {"vad.hangover_ms", "wake.followup_s", "log.level", "health.mic_stall_s"} <= keys
    assert "llm.model" not in keys and "wyoming.uri" not in keys


def test_the_satellite_role_and_the_provider_cannot_share_a_port() -> None:
    with pytest.raises(ConfigError, match="assist_satellite.uri.*wyoming.uri"):
        load_config(None, env={}, overrides={"wyoming.uri": "tcp://0.0.0.0:10700"})
    # Either one off, the other may have the port.
    config = load_config(None, env={}, overrides={"wyoming.uri": "tcp://0.0.0.0:10700",
                                                  "assist_satellite.mode": "local"})
    assert config.wyoming.uri == "tcp://0.0.0.0:10700"
    # Port 0 is "any free port": each role gets its own (tests, benchmarks).
    both_free = load_config(None, env={}, overrides={"wyoming.uri": "tcp://127.0.0.1:0",
                                                     "assist_satellite.uri": "tcp://127.0.0.1:0"})
    assert both_free.assist_satellite.uri == both_free.wyoming.uri


def test_allow_from_takes_addresses_and_networks_and_refuses_anything_else(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("wyoming:\n  allow_from: [192.168.1.10, 192.168.1.0/24]\n"
                    "assist_satellite:\n  allow_from: ['::1']\n")
    config = load_config(path, env={})
    assert config.wyoming.allow_from == ["192.168.1.10", "192.168.1.0/24"]
    assert config.assist_satellite.allow_from == ["::1"]
    path.write_text("wyoming:\n  allow_from: [the kitchen]\n")
    with pytest.raises(ConfigError, match="wyoming.allow_from: 'the kitchen'"):
        load_config(path, env={})
