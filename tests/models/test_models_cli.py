"""``satellite models pull|list`` as a user runs them (real processes), then the pulled voice in use."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from satellite.config.paths import default_tts_voice
from satellite.models import get_model
from tests.cli.test_cli import assert_clean_failure, satellite
from tests.models.hub import FakeHub, serve_hub

VOICE = get_model("es_ES-davefx-medium")


@pytest.fixture
def voice_hub() -> Iterator[FakeHub]:
    """rhasspy/piper-voices serving a real Piper voice (the built-in one) as es_ES-davefx-medium."""
    onnx = default_tts_voice()
    meta = json.loads(Path(f"{onnx}.json").read_text())
    meta.setdefault("language", {})["code"] = "es_ES"
    hub = FakeHub()
    hub.add(VOICE.repo_id, VOICE.files[0].path, onnx.read_bytes())
    hub.add(VOICE.repo_id, VOICE.files[1].path, json.dumps(meta).encode(), lfs=False)
    with serve_hub(hub) as served:
        yield served


def test_pull_then_list_then_use_the_voice_by_its_catalog_name(voice_hub: FakeHub, tmp_path: Path) -> None:
    env = {"HF_ENDPOINT": voice_hub.url, "SATELLITE__MODELS__DIR": str(tmp_path / "models")}
    pulled = satellite("models", "pull", "es_ES-davefx-medium", state=tmp_path, env=env, timeout=120)
    assert pulled.returncode == 0, pulled.stderr
    voice_path = tmp_path / "models" / "es_ES-davefx-medium" / "es_ES-davefx-medium.onnx"
    assert pulled.stdout.startswith(f"es_ES-davefx-medium: {voice_path} (63 MB)")
    assert "tts.voice=es_ES-davefx-medium" in pulled.stderr

    listed = satellite("models", "list", state=tmp_path, env=env, timeout=60)
    assert listed.returncode == 0, listed.stderr
    installed, fetchable = listed.stdout.split("can be fetched")
    rows = [line.split() for line in installed.splitlines()]
    assert ["es_ES-davefx-medium", "tts", "63", "MB", "pulled", str(voice_path)] in rows
    assert "es_ES-davefx-medium" not in fetchable and "lfm2-1.2b" in fetchable

    offline = satellite("models", "pull", "es_ES-davefx-medium", "--local-files-only", state=tmp_path,
                        env={**env, "HF_ENDPOINT": "http://127.0.0.1:9"}, timeout=60)
    assert offline.returncode == 0, offline.stderr

    out = tmp_path / "hola.wav"
    said = satellite("--set", "tts.voice=es_ES-davefx-medium", "say", "Hola.", "-o", str(out),
                     state=tmp_path, env=env, timeout=120)
    assert said.returncode == 0, said.stderr
    assert out.stat().st_size > 10_000


def test_pull_of_an_unknown_name_or_without_the_hub_is_one_clear_line(tmp_path: Path) -> None:
    env = {"HF_ENDPOINT": "http://127.0.0.1:9", "SATELLITE__MODELS__DIR": str(tmp_path / "models")}
    assert_clean_failure(satellite("models", "pull", "gpt-9", state=tmp_path, env=env, timeout=60),
                         "'gpt-9' is not in the model catalog", "lfm2-1.2b")
    failed = satellite("models", "pull", "lfm2-1.2b", state=tmp_path, env=env, timeout=60)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert "cannot be reached for 'lfm2-1.2b'" in failed.stderr.splitlines()[-1]
    named = satellite("--set", "llm.model=lfm2-1.2b", "ask", "hi", state=tmp_path, env=env, timeout=60)
    assert_clean_failure(named, "model 'lfm2-1.2b' is not downloaded; run: satellite models pull lfm2-1.2b")
