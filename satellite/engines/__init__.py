"""Engines: one small synchronous interface per stage, each with its real CPU implementation."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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
    stt = timed("stt", lambda: WhisperStt(resolved_stt(config))) if "stt" in only else NotLoaded("stt")
    llm = timed("llm", lambda: LlamaCppLlm(resolved_llm(config))) if "llm" in only else NotLoaded("llm")
    tts_config = resolved_tts(config) if "tts" in only else config.tts
    tts = timed("tts", lambda: PiperTts(tts_config)) if "tts" in only else NotLoaded("tts")
    extra: dict[str, TextToSpeech] = {}
    for path in tts_config.extra_voices if "tts" in only else []:
        voice = timed(f"tts:{path}", lambda p=path: PiperTts(tts_config, voice_path=p))
        extra[voice.voice.name] = voice  # type: ignore[attr-defined]
    return Engines(stt, llm, tts, extra, load_s)  # type: ignore[arg-type]


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
