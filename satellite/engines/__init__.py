"""Engines: one small synchronous interface per stage, each with its real CPU implementation."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from satellite.config.schema import Config
from satellite.engines.broken import BROKEN, BrokenTts
from satellite.engines.llm import ChatMessage, LanguageModel, LlamaCppLlm
from satellite.engines.probe import EngineProbe, Verdict, model_path, safe_section
from satellite.engines.stt import SpeechToText, Transcript, WhisperStt
from satellite.engines.tts import PiperTts, TextToSpeech, VoiceInfo
from satellite.models import resolved_llm, resolved_stt, resolved_tts

_LOGGER = logging.getLogger(__name__)


@dataclass
class Engines:
    stt: SpeechToText
    llm: LanguageModel
    tts: TextToSpeech
    extra_voices: dict[str, TextToSpeech] = field(default_factory=dict)
    load_s: dict[str, float] = field(default_factory=dict)
    links: dict[str, Any] = field(default_factory=dict)  # stage -> RemoteLink, for remote stages
    fallbacks: frozenset[str] = frozenset()  # remote stages with the local engine behind them
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # what the probe said of each local one

    def voices(self) -> dict[str, TextToSpeech]:
        if isinstance(self.tts, BrokenTts):
            return {}
        return {self.tts.voice.name: self.tts, **self.extra_voices}

    @property
    def broken(self) -> dict[str, str]:
        """stage -> the line said of it, for each local engine broken on this machine."""
        return {stage: v.line for stage, v in self.verdicts.items() if v.state == "broken"}


class NotLoaded:
    """Stands where a command did not load an engine; using it is a programming error."""

    def __init__(self, stage: str):
        self.stage = stage

    def __getattr__(self, name: str) -> object:
        raise RuntimeError(f"the {self.stage} engine was not loaded by this command")


ALL_STAGES = ("stt", "llm", "tts")


def load_engines(config: Config, progress: Callable[[str, str], None] | None = None,
                 only: tuple[str, ...] = ALL_STAGES) -> Engines:
    """Load the configured models (``only`` some stages if asked); ``progress`` hears each step."""
    load_s: dict[str, float] = {}

    def timed(stage: str, loader: Callable[[], object]) -> object:
        if progress:
            progress(stage, "loading")
        start = time.perf_counter()
        engine = loader()
        load_s[stage] = time.perf_counter() - start
        if progress:
            progress(stage, f"loaded in {load_s[stage]:.2f} s")
        _LOGGER.info("%s model loaded in %.2f s", stage, load_s[stage])
        return engine

    # Catalog names (llm.model: lfm2-1.2b) become paths here; nothing is downloaded.
    local = tuple(stage for stage in ALL_STAGES if stage in only
                  and (not getattr(config, stage).uri or getattr(config, stage).fallback_local))
    sections = {stage: RESOLVE[stage](config) for stage in local}
    verdicts = (EngineProbe(config, sections).verdicts(local)
                if config.engines.probe and local else {})

    def loader(stage: str, engine: Callable[[Any], object]) -> Callable[[], object]:
        verdict = verdicts.get(stage)
        if verdict is not None and verdict.state == "broken":
            section = sections[stage]
            return lambda: BROKEN[stage](verdict.line, model_path(stage, section), config.language)
        return lambda: engine(safe_section(sections[stage], verdict))

    stt = _stage("stt", config, only, timed, loader("stt", _whisper))
    llm = _stage("llm", config, only, timed, loader("llm", _llama))
    tts = _stage("tts", config, only, timed, loader("tts", PiperTts))
    extra: dict[str, TextToSpeech] = {}
    if "tts" in local and not config.tts.uri and not isinstance(tts, BrokenTts):
        tts_config = safe_section(sections["tts"], verdicts.get("tts"))
        for path in tts_config.extra_voices:
            voice = cast(PiperTts, timed(f"tts:{path}", functools.partial(PiperTts, tts_config,
                                                                            voice_path=path)))
            extra[voice.voice.name] = voice
    loaded: dict[str, Any] = {stage: e for stage, e in zip(ALL_STAGES, (stt, llm, tts), strict=True)
              if not isinstance(e, NotLoaded)}
    links = {stage: e.link for stage, e in loaded.items() if getattr(e, "link", None) is not None}
    fallbacks = frozenset(stage for stage, e in loaded.items() if getattr(e, "local", None) is not None)
    return Engines(stt, llm, tts, extra, load_s, links, fallbacks, verdicts)  # type: ignore[arg-type]


def _whisper(section: Any) -> object:
    """Whisper, batched across callers when ``stt.batch`` > 1 (``stt_batch.py``)."""
    stt = WhisperStt(section)
    if section.batch <= 1:
        return stt
    from satellite.engines.stt_batch import BatchedStt

    return BatchedStt(stt, section.batch)


def _llama(section: Any) -> object:
    """llama.cpp, generating ``llm.parallel`` sequences at once when > 1 (``llm_batch.py``)."""
    llm = LlamaCppLlm(section)
    if section.parallel <= 1:
        return llm
    from satellite.engines.llm_batch import BatchedLlm

    return BatchedLlm(llm, section.parallel)


RESOLVE: dict[str, Callable[[Config], Any]] = {"stt": resolved_stt, "llm": resolved_llm,
                                               "tts": resolved_tts}


def _stage(stage: str, config: Config, only: tuple[str, ...],
           timed: Callable[[str, Callable[[], object]], object], local: Callable[[], object]) -> object:
    """The stage's engine: local, remote (``uri`` set: no model loaded), or remote with the local
    engine behind it (``fallback_local``)."""
    if stage not in only:
        return NotLoaded(stage)
    section = getattr(config, stage)
    if not section.uri:
        return timed(stage, local)
    from satellite import remote  # only a box with a remote stage imports the clients

    reconnect_max_s = config.remote.reconnect_max_s
    remote_engine: Any
    if stage == "stt":
        remote_engine = remote.WyomingStt(config.stt, reconnect_max_s)
    elif stage == "tts":
        remote_engine = remote.WyomingTts(config.tts, reconnect_max_s)
    elif config.llm.uri.startswith("tcp://"):
        remote_engine = remote.WyomingHandleLlm(config.llm, reconnect_max_s)
    else:
        remote_engine = remote.OpenAiChatLlm(config.llm, remote.read_api_key(config.llm),
                                             reconnect_max_s)
    _LOGGER.info("%s: remote, %s", stage, section.uri)
    if not section.fallback_local:
        return remote_engine
    wrapper = {"stt": remote.FallbackStt, "llm": remote.FallbackLlm, "tts": remote.FallbackTts}[stage]
    return wrapper(remote_engine, timed(stage, local), remote_engine.link)


__all__ = [
    "ChatMessage",
    "Engines",
    "LanguageModel",
    "LlamaCppLlm",
    "PiperTts",
    "SpeechToText",
    "TextToSpeech",
    "Transcript",
    "VoiceInfo",
    "WhisperStt",
    "load_engines",
]
