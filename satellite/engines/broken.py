"""What stands where an engine is broken on this machine: it answers every call with one error.

The rest of the box keeps serving (the room says which part does not work, Wyoming answers the
other programs); the names other parts read of an engine are still there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from satellite.engines.stt import Transcript
from satellite.engines.tts import VoiceInfo
from satellite.errors import EngineBrokenError

WHAT = {"stt": "speech recognition", "llm": "language model", "tts": "voice"}


class _Broken:
    stage = ""

    def __init__(self, line: str, model: Path, language: str = "en"):
        self.line = line
        self.name = model.name.removesuffix(".onnx").removesuffix(".gguf")
        self.model = model
        self.language = language

    def _refuse(self) -> EngineBrokenError:
        return EngineBrokenError(f"the {WHAT[self.stage]} engine does not work on this machine: "
                                 f"{self.line}", self.stage)


class BrokenStt(_Broken):
    stage = "stt"

    @property
    def languages(self) -> list[str]:
        return [self.language]

    def transcribe(self, pcm: Any, hint: str | None = None, alternatives: int = 0) -> Transcript:
        raise self._refuse()


class BrokenLlm(_Broken):
    stage = "llm"
    context_tokens = 2048

    @property
    def identity(self) -> str:
        return f"broken:{self.model.name}"

    def stream(self, messages: Any, cancel: Any = None, max_tokens: int | None = None) -> Iterator[str]:
        raise self._refuse()

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1


class BrokenTts(_Broken):
    stage = "tts"

    @property
    def voice(self) -> VoiceInfo:
        return VoiceInfo(self.name, self.language, 22050, [], self.model)

    def synthesize(self, text: str, speaker: int | None = None) -> Iterator[Any]:
        raise self._refuse()

    def identity(self, speaker: int | None = None) -> str:
        return f"broken:{self.model.name}"


BROKEN = {"stt": BrokenStt, "llm": BrokenLlm, "tts": BrokenTts}
