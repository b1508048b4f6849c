"""microWakeWord on LiteRT: the runtime a machine gets where pymicro-wakeword's bundled TensorFlow
Lite library does not load, run here on x86-64 exactly as it runs there, on speech made by the
Piper voice, and held to the numbers of pymicro-wakeword's own runtime."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from satellite.audio import Pcm
from satellite.engines import Engines
from satellite.engines.wake import MicroWakeWordDetector
from satellite.engines.wake_litert import (
    LiteRtMicroWakeWord,
    MicroModelSettings,
    MicroRuntimeFacts,
    choose_micro_runtime,
    micro_package_dir,
    native_library_error,
)
from satellite.errors import ModelError
from tests.engines.test_wake import CHUNK, detections, speak

PHRASES = {"hey_jarvis": "Hey Jarvis, what time is it?", "okay_nabu": "Okay Nabu, what time is it?"}


@pytest.fixture(scope="module")
def speech(engines: Engines) -> dict[str, bytes]:
    """Each wake phrase with the question, and the question alone (``plain``)."""
    spoken = {model: speak(engines, text) for model, text in PHRASES.items()}
    return spoken | {"plain": speak(engines, "What time is it?")}


@pytest.mark.parametrize(("facts", "expected"), [
    # aarch64 with glibc < 2.35: pip installs the sdist, whose bundled library is x86-64
    (MicroRuntimeFacts("aarch64", "libtensorflowlite_c.so: wrong ELF class", True), "litert"),
    (MicroRuntimeFacts("aarch64", "pymicro-wakeword is not installed", True), "litert"),
    (MicroRuntimeFacts("aarch64", None, True), "pymicro"),  # its aarch64 wheel's library loads
    (MicroRuntimeFacts("x86_64", None, True), "pymicro"),
    (MicroRuntimeFacts("x86_64", None, False), "pymicro"),
])
def test_litert_runs_the_models_only_where_the_bundled_library_does_not_load(
        facts: MicroRuntimeFacts, expected: str) -> None:
    assert choose_micro_runtime(facts) == expected


def test_neither_runtime_is_a_model_error_naming_what_to_install() -> None:
    with pytest.raises(ModelError, match="pip install 'ai-edge-litert==") as error:
        choose_micro_runtime(MicroRuntimeFacts("aarch64", "wrong ELF class", False))
    assert "aarch64" in str(error.value)


def test_a_library_that_does_not_open_is_reported(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "libtensorflowlite_c.so").write_bytes(b"\x7fELF not really a library")
    assert native_library_error(tmp_path) is not None
    assert native_library_error(tmp_path / "missing") is not None  # no lib directory at all
    assert native_library_error(None) == "pymicro-wakeword is not installed"
    assert native_library_error(micro_package_dir()) is None  # this x86-64 box's own library


def test_the_litert_runtime_never_opens_the_bundled_library() -> None:
    """As on a machine where that library cannot load: model, features and a detection step."""
    script = ("from satellite.engines.wake import MicroWakeWordDetector\n"
              "d = MicroWakeWordDetector('okay_nabu', runtime='litert')\n"
              "d.process(bytes(32000), 1.0)\n"
              "maps = open('/proc/self/maps').read()\n"
              "print('tensorflowlite_c' in maps, 'LiteRt' in maps or 'litert' in maps)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            check=True)
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.parametrize("model", sorted(PHRASES))
def test_litert_hears_the_wake_word_once_and_not_the_question_alone(
        model: str, speech: dict[str, bytes]) -> None:
    detector = MicroWakeWordDetector(model, 0.0, runtime="litert")
    assert detector.runtime == "litert" and detector.name == f"micro:{model}"
    hits = detections(detector, speech[model])
    assert len(hits) == 1
    assert 0.5 < hits[0] < 2.5  # during the wake word, not the question after
    assert detections(MicroWakeWordDetector(model, 0.0, runtime="litert"), speech["plain"]) == []


@pytest.mark.parametrize("model", sorted(PHRASES))
def test_litert_detects_where_pymicro_wakeword_does(model: str, speech: dict[str, bytes]) -> None:
    for audio in (speech[model], speech["plain"]):
        hits = {runtime: detections(MicroWakeWordDetector(model, 0.0, runtime=runtime), audio)
                for runtime in ("pymicro", "litert")}
        assert len(hits["litert"]) == len(hits["pymicro"])
        assert all(abs(a - b) <= 2 * CHUNK / 32000 for a, b in zip(hits["litert"], hits["pymicro"],
                                                                    strict=True))


@pytest.mark.parametrize("model", sorted(PHRASES))
def test_litert_gives_pymicro_wakewords_probabilities(model: str, speech: dict[str, bytes]) -> None:
    from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model

    native = MicroWakeWord.from_builtin(Model(model))
    litert = LiteRtMicroWakeWord(MicroModelSettings.load(model))
    assert litert.probability_cutoff == native.probability_cutoff
    theirs, ours = [], []
    for features in MicroWakeWordFeatures().process_streaming(speech[model] + speech["plain"]):
        expected, got = native.process_streaming_prob(features), litert.process_streaming_prob(features)
        if got is not None:  # a step ran with a full window; pymicro-wakeword says 0.0 in between
            theirs.append(expected)
            ours.append(got)
    theirs_a, ours_a = np.array(theirs, dtype=float), np.array(ours)
    assert len(ours) > 100 and theirs_a.max() > native.probability_cutoff  # the wake word is in it
    assert np.abs(theirs_a - ours_a).max() < 0.01
    first = [int(np.argmax(p > native.probability_cutoff)) for p in (theirs_a, ours_a)]
    assert abs(first[0] - first[1]) <= 1  # the same step crosses the cutoff, give or take one


@pytest.mark.parametrize("reset", [False, True])
def test_reset_on_litert_forgets_the_wake_word(speech: dict[str, bytes], reset: bool) -> None:
    """The model's state lives in the interpreter's variables: only a reset clears them."""
    detector = MicroWakeWordDetector("okay_nabu", 0.0, refractory_s=2.0, runtime="litert")
    audio = speech["okay_nabu"]
    heard = next(s for s in range(0, len(audio), CHUNK)
                 if detector.process(audio[s:s + CHUNK], (s + CHUNK) / 32000))
    if reset:
        detector.reset()
    silence, later_s = Pcm.silence(1.0).audio, (heard + CHUNK) / 32000 + 3.0  # the room was gated
    again = [s for s in range(0, len(silence), CHUNK)
             if detector.process(silence[s:s + CHUNK], later_s + (s + CHUNK) / 32000)]
    assert (again == []) is reset  # without a reset, the model still holds "okay nabu"


def test_a_model_json_path_loads_on_litert() -> None:
    package = micro_package_dir()
    assert package is not None
    detector = MicroWakeWordDetector(str(package / "models" / "hey_jarvis.json"), runtime="litert")
    assert detector.name == "micro:hey_jarvis" and detector.phrase == "hey jarvis"
    assert detector.model_cutoff == pytest.approx(0.97)


def test_an_unknown_model_on_litert_is_a_model_error_naming_the_shipped_ones() -> None:
    with pytest.raises(ModelError, match="okay_nabu"):
        MicroWakeWordDetector("hey_nobody", runtime="litert")
