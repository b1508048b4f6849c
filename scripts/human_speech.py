"""Human speech for the benchmarks, from Debian packages: made once into a cache, never into the repo.

Real people's recordings with their transcripts that this machine may fetch (Debian's
packages are reachable, nothing else outside PyPI and npm):

- ``alsa-utils``: ``/usr/share/sounds/alsa/{Front,Rear,Side}_{Left,Center,Right}.wav``, a man
  saying the channel's name (the file name is the transcript), 48 kHz;
- ``pocketsphinx-testdata`` (BSD-2, CMU): ``goforward.raw`` ("go forward ten meters", the
  test's own expectation), ``something.raw`` (no transcript ships: "go somewhere and do
  something", what tiny.en and base both hear, checked by reading), four card names of
  ``cards/`` with their ``cards.transcription``, and five sentences of a LibriVox reading of
  Sense and Sensibility with their ``librivox/transcription`` (kept verbatim, "a more a
  amiable" included: the reader stumbled). Digit strings (``numbers.raw``, TIDIGITS, "five
  five") are left out: how Whisper writes "33-4-692" decides their WER, not what it heard.

``human_set()`` writes 16 kHz mono WAVs and a ``manifest.tsv`` (file, reference, source) under
``~/.cache/sarai-bench/human`` (``SARAI_BENCH_CACHE`` moves it), fetching the .deb with
``apt-get download`` when its files are not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from satellite.audio import Pcm, read_wav, write_wav
from satellite.benchdata import SpeechClip, manifest_clips

ALSA_DIR = Path("/usr/share/sounds/alsa")
POCKETSPHINX_DIR = Path("/usr/share/pocketsphinx/test/data")
ALSA_NAMES = [f"{side}_{where}" for side in ("Front", "Rear", "Side")
              for where in ("Left", "Center", "Right") if f"{side}_{where}" != "Side_Center"]
RAW = {"goforward.raw": ("go forward ten meters", "pocketsphinx-testdata goforward.raw (its test's text)"),
       "something.raw": ("go somewhere and do something",
                         "pocketsphinx-testdata something.raw (no text ships: tiny.en and base agree)")}
CARDS = ("001", "002", "003", "005")


def cache_dir() -> Path:
    return Path(os.environ.get("SARAI_BENCH_CACHE", Path.home() / ".cache" / "sarai-bench"))


def human_set(directory: Path | None = None) -> list[SpeechClip]:
    """The human clips, made on first use."""
    directory = directory or cache_dir() / "human"
    if not (directory / "manifest.tsv").is_file():
        _make(directory)
    return manifest_clips(directory)


def _package_root(package: str, probe: Path, work: Path) -> Path:
    """``/`` if ``probe`` is installed, else the package's .deb unpacked under ``work``."""
    if probe.exists():
        return Path("/")
    subprocess.run(["apt-get", "download", package], cwd=work, check=True, capture_output=True)
    deb = next(work.glob(f"{package}_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(work / package)], check=True)
    return work / package


def _make(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="human-speech-") as tmp:
        work = Path(tmp)
        alsa = _package_root("alsa-utils", ALSA_DIR, work) / ALSA_DIR.relative_to("/")
        for name in ALSA_NAMES:
            write_wav(directory / f"alsa_{name.lower()}.wav", read_wav(alsa / f"{name}.wav"))
            rows.append((f"alsa_{name.lower()}.wav", name.replace("_", " ").lower(),
                         f"alsa-utils {name}.wav (the file name)"))
        sphinx = _package_root("pocketsphinx-testdata", POCKETSPHINX_DIR, work) / \
            POCKETSPHINX_DIR.relative_to("/")
        for raw, (text, source) in RAW.items():
            name = f"sphinx_{raw.removesuffix('.raw')}.wav"
            write_wav(directory / name, Pcm((sphinx / raw).read_bytes(), 16000))
            rows.append((name, text, source))
        cards = _transcripts(sphinx / "cards" / "cards.transcription")
        for card in CARDS:
            write_wav(directory / f"cards_{card}.wav", read_wav(sphinx / "cards" / f"{card}.wav"))
            rows.append((f"cards_{card}.wav", cards[card], f"pocketsphinx-testdata cards/{card}.wav"))
        book = _transcripts(sphinx / "librivox" / "transcription")
        for utterance, text in sorted(book.items()):
            name = f"librivox_{utterance.rsplit('-', 1)[-1]}.wav"
            shutil.copyfile(sphinx / "librivox" / f"{utterance}.wav", directory / name)
            rows.append((name, text, f"pocketsphinx-testdata librivox/{utterance}.wav (LibriVox, "
                                     "public domain)"))
    (directory / "manifest.tsv").write_text("".join("\t".join(row) + "\n" for row in rows),
                                            encoding="utf-8")


def _transcripts(path: Path) -> dict[str, str]:
    """Sphinx's ``<s> text </s> (id)`` lines: id -> text."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        text, _, utterance = line.rpartition("(")
        out[utterance.strip(") ")] = " ".join(w for w in text.split() if w not in ("<s>", "</s>"))
    return out


if __name__ == "__main__":
    for clip in human_set():
        print(f"{clip.path}\t{clip.text}")
