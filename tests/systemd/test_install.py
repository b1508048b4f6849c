"""scripts/install.sh staged into a throwaway root: the expected tree, idempotent, safe uninstall.

The venv build (a pip install of the whole project, minutes on 2 cores) is
skipped with --no-venv. Commands that would act on the machine itself
(apt-get, useradd, chown, systemctl) are shadowed on PATH by recorders, to
prove a staged run only prints them.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install.sh"
SYSTEM_COMMANDS = ("apt-get", "systemctl", "useradd", "usermod", "userdel", "chown", "dpkg-query")
EXPECTED = {
    "etc/sarai-satellite": "dir 755",
    "etc/sarai-satellite/satellite.yaml": "file 640",
    "etc/systemd/system/sarai-satellite.service": "file 644",
    "opt/sarai-satellite": "dir 755",
    "usr/share/doc/sarai-satellite/operations.md": "file 644",
    "var/lib/sarai-satellite": "dir 750",
}


@pytest.fixture
def recorder(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """PATH with every system-changing command replaced by one that logs its call."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "system-calls.log"
    for name in SYSTEM_COMMANDS:
        fake = bin_dir / name
        fake.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
        fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env.pop("DESTDIR", None)
    return env, log


def run_install(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True,
                            env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def tree(root: Path) -> dict[str, str]:
    """Every path under root with its kind, mode, content hash and modification time."""
    found = {}
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        kind = "dir" if path.is_dir() else "file"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16] if kind == "file" else ""
        found[str(path.relative_to(root))] = f"{kind} {stat.st_mode & 0o777:o} {digest} " \
                                             f"{stat.st_mtime_ns}"
    return found


def test_staged_install_builds_the_expected_tree_and_touches_nothing_else(
        tmp_path: Path, recorder: tuple[dict[str, str], Path]) -> None:
    env, log = recorder
    root = tmp_path / "root"
    out = run_install(env, "--prefix", str(root), "--no-venv")
    found = {path: " ".join(entry.split()[:2]) for path, entry in tree(root).items()}
    for path, kind in EXPECTED.items():
        assert found.get(path) == kind, (path, found.get(path))
    assert (root / "etc/sarai-satellite/satellite.yaml").read_bytes() == \
        (REPO / "config/satellite.yaml").read_bytes()
    assert (root / "etc/systemd/system/sarai-satellite.service").read_bytes() == \
        (REPO / "systemd/sarai-satellite.service").read_bytes()
    for planned in ("would run: env DEBIAN_FRONTEND=noninteractive apt-get install",
                    "would run: useradd --system", "would run: systemctl enable",
                    "would run: systemctl restart sarai-satellite.service"):
        assert planned in out
    assert not log.exists(), log.read_text()


def test_a_second_run_changes_nothing(tmp_path: Path,
                                      recorder: tuple[dict[str, str], Path]) -> None:
    env, log = recorder
    root = tmp_path / "root"
    run_install(env, "--prefix", str(root), "--no-venv")
    before = tree(root)
    out = run_install(env, "--prefix", str(root), "--no-venv")
    assert tree(root) == before
    assert "done: nothing changed" in out and "would run: systemctl start" in out
    assert "restart" not in out and "daemon-reload" not in out


def test_destdir_is_the_same_as_prefix(tmp_path: Path,
                                       recorder: tuple[dict[str, str], Path]) -> None:
    env, log = recorder
    root = tmp_path / "dest"
    run_install({**env, "DESTDIR": str(root)}, "--no-venv", "--no-start")
    assert (root / "etc/sarai-satellite/satellite.yaml").is_file()
    assert not log.exists()


def test_an_edited_config_is_kept_and_new_defaults_go_beside_it(
        tmp_path: Path, recorder: tuple[dict[str, str], Path]) -> None:
    env, _ = recorder
    root = tmp_path / "root"
    run_install(env, "--prefix", str(root), "--no-venv")
    config = root / "etc/sarai-satellite/satellite.yaml"
    config.write_text("llm:\n  max_tokens: 64\n")
    out = run_install(env, "--prefix", str(root), "--no-venv")
    assert config.read_text() == "llm:\n  max_tokens: 64\n"
    dist = root / "etc/sarai-satellite/satellite.yaml.dist"
    assert dist.read_bytes() == (REPO / "config/satellite.yaml").read_bytes()
    assert "wrote /etc/sarai-satellite/satellite.yaml.dist" in out
    assert "nothing changed" in run_install(env, "--prefix", str(root), "--no-venv")


def test_uninstall_keeps_config_and_cache_unless_purged(
        tmp_path: Path, recorder: tuple[dict[str, str], Path]) -> None:
    env, log = recorder
    root = tmp_path / "root"
    run_install(env, "--prefix", str(root), "--no-venv")
    (root / "var/lib/sarai-satellite/cache.sqlite3").write_bytes(b"cached answers")
    out = run_install(env, "--prefix", str(root), "--uninstall")
    assert "would run: systemctl disable --now" in out
    assert not (root / "etc/systemd/system/sarai-satellite.service").exists()
    assert not (root / "opt/sarai-satellite").exists()
    assert not (root / "usr/share/doc/sarai-satellite").exists()
    assert (root / "etc/sarai-satellite/satellite.yaml").is_file()
    assert (root / "var/lib/sarai-satellite/cache.sqlite3").read_bytes() == b"cached answers"
    out = run_install(env, "--prefix", str(root), "--uninstall", "--purge")
    assert not (root / "etc/sarai-satellite").exists()
    assert not (root / "var/lib/sarai-satellite").exists()
    assert "would run: userdel sarai-satellite" in out
    assert not log.exists(), log.read_text()


def test_unknown_options_are_refused(recorder: tuple[dict[str, str], Path]) -> None:
    env, _ = recorder
    result = subprocess.run(["bash", str(SCRIPT), "--frobnicate"], capture_output=True,
                            text=True, env=env, timeout=60, check=False)
    assert result.returncode == 2 and "unknown option: --frobnicate" in result.stderr
