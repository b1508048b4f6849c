"""The built-in speech set: our sentences, spoken on demand into 16 kHz mono WAV files.

No audio is shipped. Each sentence in ``sentences.tsv`` (package data: file name,
text, espeak-ng voice options) is spoken when first asked for, with espeak-ng when
it is on PATH (the same speech as the historical dev set: two voices per sentence),
else with the box's own Piper voice (one clip per sentence). A clip is written
under a unique temporary name and renamed into place, so threads or processes that
speak the same clip at once each leave a whole file.
"""

from __future__ import annotations

import csv
import logging
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from satellite.audio import Pcm, parse_wav, to_stt_format, wav_bytes
from satellite.errors import AudioError, SpeechSetError

if TYPE_CHECKING:
    from satellite.engines.tts import TextToSpeech

_LOGGER = logging.getLogger(__name__)

SENTENCES_FILE = "sentences.tsv"
MANIFEST_FILE = "manifest.tsv"
ESPEAK_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Sentence:
    name: str  # the clip's file name, e.g. "syn_01a.wav"
    text: str  # exactly what is spoken: the reference transcript
    espeak_args: tuple[str, ...]  # espeak-ng voice options, e.g. ("-v", "en-us", "-s", "175")


@dataclass(frozen=True)
class SpeechClip:
    path: Path
    text: str


def builtin_sentences() -> list[Sentence]:
    """The sentences shipped in the package, in file order."""
    table = resources.files(__package__).joinpath(SENTENCES_FILE).read_text(encoding="utf-8")
    rows = csv.reader((line for line in table.splitlines() if line and not line.startswith("#")),
                      delimiter="\t")
    return [Sentence(name, text, tuple(shlex.split(args))) for name, text, args in rows]


def one_per_text(sentences: list[Sentence]) -> list[Sentence]:
    """The first sentence of each text (a one-voice speaker would say the others identically)."""
    seen: set[str] = set()
    unique = []
    for sentence in sentences:
        if sentence.text not in seen:
            seen.add(sentence.text)
            unique.append(sentence)
    return unique


def manifest_clips(directory: Path) -> list[SpeechClip]:
    """Clips listed in ``directory/manifest.tsv`` (tab-separated: file, reference text, ...)."""
    manifest = directory / MANIFEST_FILE
    if not manifest.is_file():
        raise SpeechSetError(f"{manifest} not found; --dev-dir needs WAVs and a {MANIFEST_FILE}")
    with manifest.open(encoding="utf-8") as handle:
        return [SpeechClip(directory / row[0], row[1]) for row in csv.reader(handle, delimiter="\t") if row]


class Speaker(Protocol):
    description: str  # which voice made the speech, for reports

    def speak(self, sentence: Sentence) -> Pcm:
        """The sentence as 16 kHz mono 16-bit PCM."""
        ...


class EspeakSpeaker:
    """espeak-ng, run once per sentence with that sentence's voice options."""

    def __init__(self, executable: str):
        self.executable = executable
        self.description = f"espeak-ng {self._version()}"

    @classmethod
    def find(cls) -> EspeakSpeaker | None:
        executable = shutil.which("espeak-ng")
        return cls(executable) if executable else None

    def _version(self) -> str:
        """"1.51" from "eSpeak NG text-to-speech: 1.51  Data at: ..."."""
        banner = self._run("--version").decode(errors="replace").split("Data at:", 1)[0]
        return banner.rsplit(":", 1)[-1].strip() or "unknown version"

    def speak(self, sentence: Sentence) -> Pcm:
        audio = self._run(*sentence.espeak_args, "--stdout", sentence.text)
        try:
            # --stdout streams: the WAV header's sizes are placeholders; wave reads to the end.
            return to_stt_format(parse_wav(audio, name=f"espeak-ng output for {sentence.name}"))
        except AudioError as error:
            raise SpeechSetError(str(error)) from None

    def _run(self, *args: str) -> bytes:
        try:
            result = subprocess.run([self.executable, *args], capture_output=True,
                                    timeout=ESPEAK_TIMEOUT_S, check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise SpeechSetError(f"espeak-ng {shlex.join(args)} did not finish in "
                                 f"{ESPEAK_TIMEOUT_S:.0f} s") from None
        except OSError as error:
            raise SpeechSetError(f"cannot run {self.executable} ({error.strerror})") from None
        if result.returncode != 0:
            message = result.stderr.decode(errors="replace").strip()
            raise SpeechSetError(f"espeak-ng {shlex.join(args)} failed with exit code "
                                 f"{result.returncode}: {message}")
        return result.stdout


class TtsSpeaker:
    """The box's own text-to-speech voice (Piper); espeak-ng voice options are ignored."""

    def __init__(self, tts: TextToSpeech):
        self.tts = tts
        self.description = f"Piper {tts.voice.name} (espeak-ng is not on PATH)"

    def speak(self, sentence: Sentence) -> Pcm:
        blocks = list(self.tts.synthesize(sentence.text))
        if not blocks:
            raise SpeechSetError(f"{self.description} made no audio for {sentence.text!r}")
        return to_stt_format(Pcm(b"".join(block.audio for block in blocks), blocks[0].rate_hz))


class SpeechSet:
    """Sentences spoken by one speaker into WAV files in ``directory``, each when first asked for."""

    def __init__(self, speaker: Speaker, directory: Path, sentences: list[Sentence]):
        self.speaker = speaker
        self.directory = directory
        self.sentences = sentences
        self._by_name = {sentence.name: sentence for sentence in sentences}

    def path(self, name: str) -> Path:
        """The clip's WAV file, spoken now if it is not there yet."""
        target = self.directory / name
        if target.is_file():
            return target
        sentence = self._by_name.get(name)
        if sentence is None:
            raise SpeechSetError(f"no sentence named {name!r} in the speech set")
        _write_atomically(target, self.speaker.speak(sentence))
        _LOGGER.debug("spoke %s with %s", name, self.speaker.description)
        return target

    def clips(self, limit: int | None = None) -> list[SpeechClip]:
        """The first ``limit`` sentences (all when None), each spoken if not yet."""
        return [SpeechClip(self.path(s.name), s.text) for s in self.sentences[:limit]]


def builtin_speech_set(directory: Path, load_tts: Callable[[], TextToSpeech]) -> SpeechSet:
    """espeak-ng when on PATH, else the Piper voice that ``load_tts`` gives (called only then)."""
    sentences = builtin_sentences()
    espeak = EspeakSpeaker.find()
    if espeak is not None:
        return SpeechSet(espeak, directory, sentences)
    return SpeechSet(TtsSpeaker(load_tts()), directory, one_per_text(sentences))


def _write_atomically(target: Path, pcm: Pcm) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(wav_bytes(pcm))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
