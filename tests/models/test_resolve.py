"""From config keys to engine paths: PyPI defaults with no network, names, the language's defaults."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from satellite.config.paths import default_llm_model, default_tts_voice
from satellite.models import ModelStore, get_model, installed_models, resolve_models, store_for
from satellite.models.store import Manifest, PulledFile, local_name
from tests.conftest import make_config


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("resolving models must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")


def fake_pull(store: ModelStore, name: str) -> Path:
    """Files and a manifest as a finished pull leaves them (content is not what is tested here)."""
    entry = get_model(name)
    files = []
    for item in entry.files:
        path = store.model_dir(name) / local_name(item.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 10)
        files.append(PulledFile(path.name, item.path, "e" * 64, 10, "s" * 64))
    store.write_manifest(Manifest(name, entry.repo_id, entry.revision, "c" * 40, tuple(files)))
    return store.engine_path(entry)


def test_the_pypi_defaults_resolve_with_no_network(no_network: None, tmp_path: Path) -> None:
    config = resolve_models(make_config(tmp_path, **{"models.dir": str(tmp_path / "models")}))
    assert config.stt.model == str(tmp_path / "models" / "pypi" / "whisper-base")  # joined once
    assert config.llm.model == str(default_llm_model())
    assert config.tts.voice == str(default_tts_voice())
    listed = {m.name: m.source for m in installed_models(store_for(config))}
    assert listed == {"smollm2-135m": "pypi", "whisper-tiny.en": "pypi", "whisper-base": "pypi",
                      "en_US-joe-medium": "pypi"}


def test_spanish_uses_a_pulled_spanish_voice_by_default(no_network: None, tmp_path: Path) -> None:
    config = make_config(tmp_path, language="es", **{"models.dir": str(tmp_path / "models")})
    voice = fake_pull(store_for(config), "es_MX-claude-high")
    assert resolve_models(config).tts.voice == str(voice)


def test_spanish_without_a_spanish_voice_says_so_and_uses_the_english_one(
        no_network: None, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = make_config(tmp_path, language="es", **{"models.dir": str(tmp_path / "models")})
    with caplog.at_level(logging.WARNING, logger="satellite.models.resolve"):
        assert resolve_models(config).tts.voice == str(default_tts_voice())
    assert "no es voice is pulled" in caplog.text


def test_catalog_names_in_every_model_key(no_network: None, tmp_path: Path) -> None:
    models = tmp_path / "models"
    store = ModelStore(models)
    gguf, voice, extra = (fake_pull(store, n) for n in ("lfm2-1.2b", "es_ES-davefx-medium",
                                                           "es_MX-ald-medium"))
    whisper = fake_pull(store, "whisper-small")
    config = make_config(tmp_path, **{"models.dir": str(models), "llm.model": "lfm2-1.2b",
                                      "tts.voice": "es_ES-davefx-medium", "stt.model": "whisper-small",
                                      "tts.extra_voices": "es_MX-ald-medium, /voices/mine.onnx"})
    resolved = resolve_models(config)
    assert (resolved.llm.model, resolved.tts.voice, resolved.stt.model) == (str(gguf), str(voice),
                                                                             str(whisper))
    assert resolved.tts.extra_voices == [str(extra), "/voices/mine.onnx"]
