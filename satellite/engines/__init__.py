"""Engines: one small synchronous interface per stage, each with its real CPU implementation."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from satellite.config.schema import Config
from satellite.engines.llm import ChatMessage, LanguageModel, LlamaCppLlm
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

    def voices(self) -> dict[str, TextToSpeech]:
        return {self.tts.voice.name: self.tts, **self.extra_voices}


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
    stt = _stage("stt", config, only, timed, lambda: WhisperStt(resolved_stt(config)))
    llm = _stage("llm", config, only, timed, lambda: LlamaCppLlm(resolved_llm(config)))
    tts = _stage("tts", config, only, timed, lambda: PiperTts(resolved_tts(config)))
    extra: dict[str, TextToSpeech] = {}
    tts_config = resolved_tts(config) if "tts" in only and not config.tts.uri else config.tts
    for path in tts_config.extra_voices if "tts" in only and not config.tts.uri else []:
        voice = timed(f"tts:{path}", lambda p=path: PiperTts(tts_config, voice_path=p))
        extra[voice.voice.name] = voice  # type: ignore[attr-defined]
    loaded: dict[str, Any] = {stage: e for stage, e in zip(ALL_STAGES, (stt, llm, tts), strict=True)
              if not isinstance(e, NotLoaded)}
    links = {stage: e.link for stage, e in loaded.items() if getattr(e, "link", None) is not None}
    fallbacks = frozenset(stage for stage, e in loaded.items() if getattr(e, "local", None) is not None)
    return Engines(stt, llm, tts, extra, load_s, links, fallbacks)  # type: ignore[arg-type]


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
