"""The built-in speech set: sentences spoken on demand with espeak-ng, or Piper without it."""

from __future__ import annotations

import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from satellite.audio import Pcm, read_wav
from satellite.benchdata import (
    EspeakSpeaker,
    Sentence,
    SpeechClip,
    SpeechSet,
    TtsSpeaker,
    builtin_sentences,
    builtin_speech_set,
    manifest_clips,
)
from satellite.engines import Engines
from satellite.errors import SpeechSetError
from tests.conftest import require_espeak

WAIT_S = 10.0


class CountingSpeaker:
    """Says every sentence as one second of a constant tone level; counts the calls."""

    description = "counting test speaker"

    def __init__(self, barrier: threading.Barrier | None = None):
        self.calls: list[str] = []
        self.barrier = barrier
        self.lock = threading.Lock()

    def speak(self, sentence: Sentence) -> Pcm:
        with self.lock:
            self.calls.append(sentence.name)
        if self.barrier is not None:
            self.barrier.wait(WAIT_S)  # every thread is inside speak() at once
        return Pcm((1000).to_bytes(2, "little", signed=True) * 16000, 16000)


def test_builtin_sentences_are_forty_clips_of_twenty_texts_in_two_espeak_voices() -> None:
    sentences = builtin_sentences()
    assert len(sentences) == 40
    assert len({s.name for s in sentences}) == 40
    assert len({s.text for s in sentences}) == 20
    assert sentences[0] == Sentence("syn_01a.wav", "turn on the kitchen lights", ("-v", "en-us", "-s", "175"))
    assert sentences[1].espeak_args == ("-v", "en-gb+f3", "-s", "140", "-p", "60")
    assert all(s.name.endswith(".wav") and s.text == s.text.strip() for s in sentences)


def test_espeak_speaks_only_the_clip_asked_for_as_16khz_mono(tmp_path: Path) -> None:
    speech = SpeechSet(require_espeak(), tmp_path, builtin_sentences())
    path = speech.path("syn_01a.wav")
    assert [p.name for p in tmp_path.iterdir()] == ["syn_01a.wav"]
    pcm = read_wav(path, convert=False)
    assert (pcm.rate_hz, pcm.channels, pcm.width) == (16000, 1, 2)
    assert 1.4 < pcm.seconds < 1.8  # the historical sox-made clip: 1.59 s
    assert abs(pcm.samples()).max() > 3000


def test_espeak_reports_its_version() -> None:
    assert require_espeak().description.startswith("espeak-ng 1.")


def test_a_clip_is_spoken_once_then_reused(tmp_path: Path) -> None:
    speaker = CountingSpeaker()
    speech = SpeechSet(speaker, tmp_path, builtin_sentences())
    first = speech.path("syn_03b.wav")
    assert speech.path("syn_03b.wav") == first
    assert SpeechSet(speaker, tmp_path, builtin_sentences()).path("syn_03b.wav") == first
    assert speaker.calls == ["syn_03b.wav"]


def test_clips_speaks_the_first_n_in_order(tmp_path: Path) -> None:
    speaker = CountingSpeaker()
    clips = SpeechSet(speaker, tmp_path, builtin_sentences()).clips(3)
    assert clips == [SpeechClip(tmp_path / "syn_01a.wav", "turn on the kitchen lights"),
                     SpeechClip(tmp_path / "syn_01b.wav", "turn on the kitchen lights"),
                     SpeechClip(tmp_path / "syn_03a.wav", "set a timer for five minutes")]
    assert speaker.calls == ["syn_01a.wav", "syn_01b.wav", "syn_03a.wav"]


def test_threads_speaking_one_clip_at_once_leave_one_whole_file(tmp_path: Path) -> None:
    speaker = CountingSpeaker(threading.Barrier(4))
    speech = SpeechSet(speaker, tmp_path, builtin_sentences())
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(speech.path, "syn_05a.wav") for _ in range(4)]
        paths = {future.result(timeout=WAIT_S) for future in futures}
    assert paths == {tmp_path / "syn_05a.wav"} and len(speaker.calls) == 4
    assert [p.name for p in tmp_path.iterdir()] == ["syn_05a.wav"]  # no temporary files left
    assert read_wav(tmp_path / "syn_05a.wav", convert=False).seconds == 1.0


def test_an_unknown_clip_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpeechSetError, match="no sentence named 'syn_99a.wav'"):
        SpeechSet(CountingSpeaker(), tmp_path, builtin_sentences()).path("syn_99a.wav")


def test_a_failing_espeak_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "espeak-ng"
    broken.write_text("#!/bin/sh\necho 'voice data missing' >&2\nexit 3\n")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(SpeechSetError, match="exit code 3: voice data missing"):
        EspeakSpeaker(str(broken))


def test_without_espeak_the_box_piper_voice_says_each_text_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engines: Engines) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    speech = builtin_speech_set(tmp_path / "speech", lambda: engines.tts)
    assert isinstance(speech.speaker, TtsSpeaker)
    assert speech.speaker.description.startswith("Piper en_US-joe-medium")
    assert [s.name for s in speech.sentences[:3]] == ["syn_01a.wav", "syn_03a.wav", "syn_05a.wav"]
    assert len(speech.sentences) == 20
    clip = speech.clips(1)[0]
    pcm = read_wav(clip.path, convert=False)
    assert (pcm.rate_hz, pcm.channels) == (16000, 1)
    assert "kitchen lights" in engines.stt.transcribe(pcm).text.lower()


def test_espeak_on_path_is_preferred(tmp_path: Path) -> None:
    require_espeak()

    def no_piper() -> None:
        raise AssertionError("Piper must not be loaded when espeak-ng is on PATH")

    speech = builtin_speech_set(tmp_path, no_piper)  # type: ignore[arg-type]
    assert isinstance(speech.speaker, EspeakSpeaker) and len(speech.sentences) == 40


def test_a_dev_dir_manifest_lists_its_clips(tmp_path: Path) -> None:
    (tmp_path / "manifest.tsv").write_text("a.wav\tturn it on\tsource\nb.wav\tturn it off\n",
                                           encoding="utf-8")
    assert manifest_clips(tmp_path) == [SpeechClip(tmp_path / "a.wav", "turn it on"),
                                        SpeechClip(tmp_path / "b.wav", "turn it off")]


def test_a_dev_dir_without_manifest_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpeechSetError, match=r"manifest\.tsv not found; --dev-dir needs WAVs"):
        manifest_clips(tmp_path)
