"""The cached venv's bookkeeping with tiny lock files (no network): complete, reused, redone, locked.

Each install makes a real venv (ensurepip, a few seconds); the lock files install nothing or fail
on a missing local wheel, so pip never needs the network here.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.homeassistant.install import MARKER_NAME, InstallError, ensure_venv

NOTHING = "# installs nothing\n"
BROKEN = "./no_such_package-1.0-py3-none-any.whl\n"
TIMEOUT_S = 120.0


def lock_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return path


class Messages(list[str]):
    def __call__(self, message: str) -> None:
        self.append(message)

    def installs(self) -> int:
        return sum(message.startswith("installing") for message in self)


def test_a_failed_install_says_why_and_the_next_session_starts_again(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    with pytest.raises(InstallError) as failed:
        ensure_venv(venv, lock_file(tmp_path, BROKEN), timeout_s=TIMEOUT_S)
    assert "failed" in str(failed.value) and "no_such_package" in str(failed.value)
    assert str(tmp_path / "venv.install.log") in str(failed.value)
    assert not (venv / MARKER_NAME).exists()
    leftover = venv / "left-by-the-failed-install"
    leftover.write_text("")

    messages = Messages()
    assert ensure_venv(venv, lock_file(tmp_path, NOTHING), timeout_s=TIMEOUT_S, on_install=messages) == venv

    assert messages.installs() == 1 and messages[-1].startswith("installed")
    assert not leftover.exists()  # rebuilt from scratch
    assert (venv / MARKER_NAME).is_file() and (venv / "bin" / "python").exists()


def test_a_complete_venv_is_reused_until_its_lock_file_changes(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    requirements = lock_file(tmp_path, NOTHING)
    ensure_venv(venv, requirements, timeout_s=TIMEOUT_S)
    kept = venv / "kept-while-complete"
    kept.write_text("")

    messages = Messages()
    ensure_venv(venv, requirements, timeout_s=TIMEOUT_S, on_install=messages)
    assert messages == [] and kept.exists()

    requirements.write_text(NOTHING + "# a new pin\n")
    ensure_venv(venv, requirements, timeout_s=TIMEOUT_S, on_install=messages)
    assert messages.installs() == 1 and not kept.exists()


def test_two_sessions_at_once_install_once(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    requirements = lock_file(tmp_path, NOTHING)
    messages = Messages()
    errors: list[BaseException] = []

    def session() -> None:
        try:
            ensure_venv(venv, requirements, timeout_s=TIMEOUT_S, on_install=messages)
        except BaseException as error:  # handed to the test thread below
            errors.append(error)

    threads = [threading.Thread(target=session) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)

    assert not any(thread.is_alive() for thread in threads) and errors == []
    assert messages.installs() == 1
    assert (venv / MARKER_NAME).is_file()
