"""The shipped unit file: systemd's own verifier accepts it, and it asks for what the issue needs.

``systemd-analyze verify`` also checks that ExecStart exists, and
/opt/sarai-satellite/venv/bin/satellite exists only on an installed box. So the
test verifies a copy in a temporary directory with ExecStart pointing at an
existing binary (``/bin/true``); every other line is verified as shipped, and a
second check shows the only complaint about the original is that missing binary.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "sarai-satellite.service"
EXEC = "/opt/sarai-satellite/venv/bin/satellite"

needs_systemd = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze not installed (scripts/setup --test)")


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=60,
                          check=False)


def unit_copy(tmp_path: Path, text: str | None = None) -> Path:
    text = UNIT.read_text() if text is None else text
    path = tmp_path / UNIT.name
    path.write_text(text.replace(f"ExecStart={EXEC}", "ExecStart=/bin/true"))
    return path


@needs_systemd
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    result = analyze("verify", str(unit_copy(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "" and result.stdout.strip() == "", result.stderr


@needs_systemd
def test_verify_of_the_original_only_misses_the_installed_binary(tmp_path: Path) -> None:
    if Path(EXEC).exists():
        pytest.skip(f"{EXEC} exists: the unit is installed on this machine")
    shutil.copy(UNIT, tmp_path / UNIT.name)
    result = analyze("verify", str(tmp_path / UNIT.name))
    complaints = [line for line in result.stderr.splitlines() if line.strip()]
    assert complaints == [f"{UNIT.name}: Command {EXEC} is not executable: "
                          "No such file or directory"]


@needs_systemd
def test_the_verifier_catches_a_misspelt_key(tmp_path: Path) -> None:
    """So the verify test can fail: systemd names an unknown key on stderr."""
    bad = UNIT.read_text().replace("NoNewPrivileges=yes", "NoNewPrivilegs=yes")
    result = analyze("verify", str(unit_copy(tmp_path, bad)))
    assert "Unknown key 'NoNewPrivilegs'" in result.stderr


@needs_systemd
def test_hardening_exposure_is_low(tmp_path: Path) -> None:
    result = analyze("security", "--offline=yes", str(unit_copy(tmp_path)))
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout + result.stderr)
    assert match, result.stdout[-500:]
    assert float(match.group(1)) <= 4.0  # systemd's scale: 0 safest, 10 unsafe; 4 is "OK"


def test_unit_asks_for_notify_watchdog_restart_and_hardening() -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    service = parser["Service"]
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert service["WatchdogSec"] and service["Restart"] == "on-failure"
    # no fast crash loop: at most StartLimitBurst starts in StartLimitIntervalSec, then failed
    assert parser["Unit"]["StartLimitIntervalSec"] == "10min" and parser["Unit"]["StartLimitBurst"] == "5"
    assert service["RestartSec"] == "5s"
    assert service["ExecStart"] == f"{EXEC} --config /etc/sarai-satellite/satellite.yaml run"
    assert "-HUP" in service["ExecReload"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "ReadWritePaths": "/var/lib/sarai-satellite",
                       "StateDirectory": "sarai-satellite", "SupplementaryGroups": "audio",
                       "User": "sarai-satellite"}.items():
        assert service[key] == value, key
    assert "SATELLITE__STATE_DIR=/var/lib/sarai-satellite" in UNIT.read_text()
    assert parser["Install"]["WantedBy"] == "multi-user.target"
