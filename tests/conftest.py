"""Shared fixtures: the real engines are loaded once per test run (session scope)."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from satellite.benchdata import EspeakSpeaker, SpeechClip, SpeechSet, builtin_sentences
from satellite.config import Config, load_config
from satellite.engines import Engines, load_engines

REPO = Path(__file__).resolve().parent.parent

DevClip = SpeechClip  # path, text: a WAV of the dev set and exactly what it says

_dev_speech: SpeechSet | None = None
_dev_speech_dir: tempfile.TemporaryDirectory[str] | None = None  # removed when the session exits
_dev_speech_lock = threading.Lock()


def require_espeak() -> EspeakSpeaker:
    """espeak-ng, or the test fails (not skips: CI must run the speech-driven tests)."""
    espeak = EspeakSpeaker.find()
    if espeak is None:
        pytest.fail("espeak-ng is not on PATH; the tests speak their dev set with it. Install the "
                    "Debian package espeak-ng (sudo apt-get install espeak-ng, or scripts/setup --test)",
                    pytrace=False)
    return espeak


def dev_speech() -> SpeechSet:
    """The dev set: the built-in sentences spoken with espeak-ng into a temp dir, each on first use."""
    global _dev_speech, _dev_speech_dir
    with _dev_speech_lock:
        if _dev_speech is None:
            espeak = require_espeak()
            _dev_speech_dir = tempfile.TemporaryDirectory(prefix="satellite-dev-speech-")
            _dev_speech = SpeechSet(espeak, Path(_dev_speech_dir.name), builtin_sentences())
        return _dev_speech


def dev_wav(name: str) -> Path:
    """One dev clip's WAV file (16 kHz mono), e.g. ``dev_wav("syn_01a.wav")``."""
    return dev_speech().path(name)


def dev_clips() -> list[DevClip]:
    return dev_speech().clips()


@pytest.fixture(scope="session")
def dev_set() -> list[DevClip]:
    return dev_clips()


def make_config(tmp_path: Path, **overrides: object) -> Config:
    """Defaults, with the state dir under ``tmp_path`` and dotted-key overrides."""
    # No wake word unless a test asks for one: most tests are about what follows it.
    values = {"state_dir": str(tmp_path / "state"), "log.level": "INFO", "wake.engine": "none"}
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_config(None, env={}, overrides=values)


@pytest.fixture(scope="session")
def base_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return make_config(tmp_path_factory.mktemp("session"))


@pytest.fixture(scope="session")
def engines(base_config: Config) -> Iterator[Engines]:
    """Whisper tiny.en, SmolLM2-135M and Piper joe-medium, loaded once."""
    yield load_engines(base_config)
