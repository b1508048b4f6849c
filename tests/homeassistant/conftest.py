"""``home_assistant``: one real Home Assistant core per test session (see harness.py).

The first session on a machine installs HA into its own venv in the user's cache (minutes; one
line on the terminal says so). No network then is a failure, not a skip: CI reaches the package
registries. A failing test that used HA gets the end of HA's log in its report.
"""

from __future__ import annotations

import shutil
from collections.abc import Generator, Iterator

import pytest

from tests.homeassistant.harness import HarnessError, HomeAssistant, ensure_venv
from tests.homeassistant.install import EXTRAS

LOG_LINES_IN_REPORT = 80


def announce(config: pytest.Config, message: str) -> None:
    """One line on the terminal, past pytest's capture (an install takes minutes)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if capture is None or reporter is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"home assistant: {message}")


@pytest.fixture(scope="session")
def home_assistant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[HomeAssistant]:
    """A running HA with the demo, onboarded; ``.token`` is a long-lived access token."""
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is not on PATH; Home Assistant converts TTS audio with it. Install the "
                    "Debian package ffmpeg (scripts/setup --test)", pytrace=False)
    try:
        venv = ensure_venv(on_install=lambda message: announce(request.config, message),
                           extras=EXTRAS)  # the wyoming integration, for the satellite tests
        ha = HomeAssistant(venv, tmp_path_factory.mktemp("homeassistant"))
        ha.start()
    except HarnessError as error:  # one message (it names the log), not a traceback
        raise pytest.fail.Exception(str(error), pytrace=False) from None
    try:
        yield ha
    finally:
        ha.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    ha = getattr(item, "funcargs", {}).get("home_assistant")
    if report.failed and isinstance(ha, HomeAssistant):
        report.sections.append((f"Home Assistant log (last {LOG_LINES_IN_REPORT} lines of {ha.log_path})",
                                ha.log_tail(LOG_LINES_IN_REPORT)))
    return report
