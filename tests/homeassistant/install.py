"""Home Assistant's own virtual environment in the user's cache, installed once from a lock file.

HA 2024.3.3 pins packages the project pins differently (aiohttp 3.9, hassil 1.6), so it never goes
into the project's venv. The venv is complete when its marker file holds the hash of the lock
file and the interpreter; anything else (absent, a changed lock, an install that died half way) is
removed and installed again from scratch. A file lock keeps two test sessions from installing at
the same time: the second waits, then finds the marker.

``extras`` (requirements-wyoming.txt: the wyoming integration's and assist_pipeline's pins, for the
satellite tests) are installed on top, with ``--no-deps``, and marked by their own hash: the main
lock, and so the venv every other test session uses, stays as it is.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

HA_VERSION = "2024.3.3"
REQUIREMENTS = Path(__file__).with_name("requirements.txt")
EXTRAS = Path(__file__).with_name("requirements-wyoming.txt")
MARKER_NAME = ".sarai-complete"
EXTRAS_MARKER_PREFIX = ".sarai-extras-"
INSTALL_TIMEOUT_S = 1200.0
LOCK_POLL_S = 1.0


class HarnessError(Exception):
    """Home Assistant cannot be installed, started or reached; the message says why and what to do."""


class InstallError(HarnessError):
    """The venv could not be created or ``pip install`` failed."""


def default_venv_dir() -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/sarai-satellite/homeassistant-<version>``."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "sarai-satellite" / f"homeassistant-{HA_VERSION}"


def venv_digest(requirements: Path) -> str:
    """What the venv is built from: the lock file's bytes and this interpreter's version.

    Not the interpreter's path: each clone (CI's, every worktree) has its own .venv, all sharing
    one base interpreter, and all may share the one cached Home Assistant venv.
    """
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"\n{sys.version}\n".encode())
    return digest.hexdigest()


def is_complete(venv: Path, digest: str) -> bool:
    marker = venv / MARKER_NAME
    # bin/python is a symlink to the base interpreter: a removed interpreter breaks the venv.
    return (marker.is_file() and marker.read_text().strip() == digest
            and (venv / "bin" / "python").exists())


def extras_marker(venv: Path, extras: Path) -> Path:
    return venv / f"{EXTRAS_MARKER_PREFIX}{hashlib.sha256(extras.read_bytes()).hexdigest()[:16]}"


def ensure_venv(venv: Path | None = None, requirements: Path = REQUIREMENTS, *,
                timeout_s: float = INSTALL_TIMEOUT_S,
                on_install: Callable[[str], None] = lambda message: None,
                extras: Path | None = None) -> Path:
    """The venv directory, installed first when it is not complete. Raises InstallError.

    ``on_install`` is told (one line each) when an install starts, when it waits for another
    session's install, and when it has finished: an install takes minutes.
    """
    venv = venv or default_venv_dir()
    digest = venv_digest(requirements)
    if is_complete(venv, digest) and (extras is None or extras_marker(venv, extras).is_file()):
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    lock_path = venv.with_name(venv.name + ".lock")
    with open(lock_path, "w") as lock_file:
        _lock(lock_file, lock_path, timeout_s, on_install)
        try:
            if not is_complete(venv, digest):  # another session may have installed it meanwhile
                _install(venv, requirements, digest, timeout_s, on_install)
            if extras is not None and not extras_marker(venv, extras).is_file():
                _install_extras(venv, extras, timeout_s, on_install)
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
    return venv


def _install_extras(venv: Path, extras: Path, timeout_s: float, on_install: Callable[[str], None]) -> None:
    log_path = venv.with_name(venv.name + ".extras.log")
    on_install(f"adding {extras.name} to {venv} (log {log_path})")
    command = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
               "--no-input", "--progress-bar", "off", "--no-deps", "-r", str(extras)]
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")}
    with open(log_path, "w") as log:
        try:
            result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise InstallError(f"installing {extras.name} took over {timeout_s:.0f} s; log: {log_path}"
                               ) from None
    if result.returncode != 0:
        raise InstallError(f"installing {extras.name} failed (exit {result.returncode})\n"
                           f"{_tail(log_path, 12)}\nfull log: {log_path}")
    extras_marker(venv, extras).write_text(extras.name + "\n")


def _lock(lock_file: IO[str], lock_path: Path, timeout_s: float,
          on_install: Callable[[str], None]) -> None:
    deadline = time.monotonic() + timeout_s
    told = False
    while True:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise InstallError(f"another session has held {lock_path} for over {timeout_s:.0f} s "
                                   "while installing Home Assistant; is a pip install stuck?") from None
            if not told:
                on_install(f"waiting for another session installing Home Assistant (lock {lock_path})")
                told = True
            time.sleep(LOCK_POLL_S)


def _install(venv: Path, requirements: Path, digest: str, timeout_s: float,
             on_install: Callable[[str], None]) -> None:
    log_path = venv.with_name(venv.name + ".install.log")
    on_install(f"installing Home Assistant {HA_VERSION} into {venv} (once; a few minutes; log {log_path})")
    started_s = time.monotonic()
    if venv.exists():
        logger.info("removing the incomplete Home Assistant venv %s", venv)
        shutil.rmtree(venv)
    steps = [
        # From a venv's interpreter, venv builds on the base interpreter: same Python as the tests.
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
         "--no-input", "--progress-bar", "off", "-r", str(requirements)],
    ]
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")}
    with open(log_path, "w") as log:
        for command in steps:
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            remaining_s = max(1.0, timeout_s - (time.monotonic() - started_s))
            try:
                result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env, timeout=remaining_s)
            except subprocess.TimeoutExpired:
                raise InstallError(f"installing Home Assistant {HA_VERSION} took over {timeout_s:.0f} s "
                                   f"({command[2]} step); log: {log_path}") from None
            if result.returncode != 0:
                raise InstallError(f"installing Home Assistant {HA_VERSION} failed (exit "
                                   f"{result.returncode}); are the package registries reachable?\n"
                                   f"{_tail(log_path, 12)}\nfull log: {log_path}")
    (venv / MARKER_NAME).write_text(digest + "\n")
    on_install(f"installed Home Assistant {HA_VERSION} in {time.monotonic() - started_s:.0f} s")


def _tail(path: Path, lines: int) -> str:
    """The last lines of a pip log, without pip's warnings about absent local index folders."""
    text = path.read_text(errors="replace").splitlines()
    kept = [line for line in text if "is ignored: it is neither a file nor a directory" not in line]
    return "\n".join(kept[-lines:])
