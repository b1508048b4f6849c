"""microWakeWord's streaming models on LiteRT (``ai-edge-litert``), and which runtime runs them.

pymicro-wakeword runs its models through the TensorFlow Lite C library it bundles, opened with
ctypes when a model is loaded (importing the package opens nothing). Where that library does not
open (a release installed from its sdist, whose library is built for x86-64; a glibc older than
its wheel's), the same model files run here through LiteRT's ``Interpreter`` instead. The models,
their JSON settings and the audio front end (pymicro-features) stay pymicro-wakeword's own.

A streaming microWakeWord model keeps its state in resource variables inside its interpreter. It
takes ``stride`` (3) feature frames of 40 values at once, quantized to the input tensor's int8,
and gives one uint8 probability per call; the probability that counts is the mean of the last
``sliding_window_size`` of them.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import json
import logging
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from satellite.errors import ModelError

_LOGGER = logging.getLogger(__name__)

MicroRuntime = Literal["pymicro", "litert"]
MICRO_PACKAGE = "pymicro_wakeword"
LITERT_PACKAGE = "ai_edge_litert"
LITERT_REQUIREMENT = "ai-edge-litert==2.3.0"


@dataclass(frozen=True)
class MicroRuntimeFacts:
    """What this machine offers for microWakeWord models, found once by ``probe_micro_runtimes``."""

    machine: str  # platform.machine(), for the messages
    native_error: str | None  # why pymicro-wakeword's bundled library did not open; None: it opens
    litert_installed: bool


def choose_micro_runtime(facts: MicroRuntimeFacts) -> MicroRuntime:
    """pymicro-wakeword's own runtime where its library opens, else LiteRT; ModelError if neither."""
    if facts.native_error is None:
        return "pymicro"
    if facts.litert_installed:
        return "litert"
    raise ModelError(f"microWakeWord: pymicro-wakeword's TensorFlow Lite library does not load on this "
                     f"{facts.machine} machine ({facts.native_error}) and LiteRT is not installed: "
                     f"pip install '{LITERT_REQUIREMENT}'")


def micro_package_dir() -> Path | None:
    """pymicro-wakeword's installed directory, found without importing it."""
    spec = importlib.util.find_spec(MICRO_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@functools.cache
def probe_micro_runtimes() -> MicroRuntimeFacts:
    """This process's facts, found once: pymicro-wakeword's library opened as its models would
    open it, and LiteRT looked for."""
    import platform

    facts = MicroRuntimeFacts(platform.machine(), native_library_error(micro_package_dir()),
                              importlib.util.find_spec(LITERT_PACKAGE) is not None)
    _LOGGER.debug("microWakeWord runtimes: %s", facts)
    return facts


def native_library_error(package: Path | None) -> str | None:
    """Why the TensorFlow Lite C library in pymicro-wakeword's ``package`` directory does not
    open in this process, or None when it opens."""
    if package is None:
        return "pymicro-wakeword is not installed"
    libraries = sorted((package / "lib").glob("*tensorflowlite_c.*"))
    if not libraries:
        return f"no tensorflowlite_c library in {package / 'lib'}"
    try:
        ctypes.CDLL(str(libraries[0]))
    except OSError as error:  # another architecture's library, glibc too old for it
        return str(error)
    return None


@dataclass(frozen=True)
class MicroModelSettings:
    """One microWakeWord model as its JSON describes it."""

    id: str
    wake_word: str
    tflite_path: Path
    probability_cutoff: float
    sliding_window_size: int

    @classmethod
    def load(cls, model: str) -> MicroModelSettings:
        """A model shipped in pymicro-wakeword (``okay_nabu``...) or the path of a model's ``.json``."""
        if Path(model).suffix == ".json":
            json_path = Path(model)
        else:
            package = micro_package_dir()
            if package is None:
                raise ModelError(f"microWakeWord model '{model}': pymicro-wakeword (its models) is not "
                                 "installed")
            json_path = package / "models" / f"{model}.json"
            if not json_path.is_file():
                shipped = sorted(p.stem for p in (package / "models").glob("*.json"))
                raise ModelError(f"microWakeWord model '{model}': not one of the shipped models {shipped}")
        try:
            settings = json.loads(json_path.read_text(encoding="utf-8"))
            micro = settings["micro"]
            return cls(id=Path(settings["model"]).stem, wake_word=settings["wake_word"],
                       tflite_path=json_path.parent / settings["model"],
                       probability_cutoff=float(micro["probability_cutoff"]),
                       sliding_window_size=int(micro["sliding_window_size"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelError(f"microWakeWord model '{model}': {error!r}") from error


class LiteRtMicroWakeWord:
    """A streaming microWakeWord model run by LiteRT, with pymicro-wakeword's ``MicroWakeWord``
    surface that the detector uses (``id``, ``wake_word``, ``probability_cutoff``,
    ``process_streaming_prob``, ``reset``)."""

    def __init__(self, settings: MicroModelSettings):
        self.id = settings.id
        self.wake_word = settings.wake_word
        self.probability_cutoff = settings.probability_cutoff
        self.settings = settings
        try:
            self._model_bytes = settings.tflite_path.read_bytes()
            self._start()
        except ImportError as error:
            raise ModelError(f"microWakeWord on LiteRT: {error}; pip install '{LITERT_REQUIREMENT}'"
                             ) from error
        except (OSError, ValueError, RuntimeError) as error:
            raise ModelError(f"microWakeWord model '{settings.tflite_path}' on LiteRT: {error}") from error

    def _start(self) -> None:
        """A fresh interpreter: the model's variables hold no audio yet."""
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        # The built-in kernels without the XNNPACK delegate: they give pymicro-wakeword's numbers
        # exactly (with XNNPACK, hey_jarvis differed by up to 0.007). One thread: a 3-frame step
        # is too small to share.
        self._interpreter = Interpreter(
            model_content=self._model_bytes, num_threads=1,
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        self._interpreter.allocate_tensors()
        (given,), (answer,) = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        if given["dtype"] not in (np.int8, np.uint8) or answer["dtype"] not in (np.int8, np.uint8):
            raise ValueError(f"not a quantized streaming model (input {given['dtype']}, "
                             f"output {answer['dtype']})")
        self._input_index, self._output_index = given["index"], answer["index"]
        self._input_dtype = given["dtype"]
        self._input_scale, self._input_zero_point = given["quantization"]
        self._output_scale, self._output_zero_point = answer["quantization"]
        self._input_limits = np.iinfo(self._input_dtype)
        self.stride = int(given["shape"][1])
        self._frames: list[np.ndarray] = []
        self._recent: deque[float] = deque(maxlen=self.settings.sliding_window_size)

    def process_streaming_prob(self, features: np.ndarray) -> float | None:
        """Take one feature frame (40 values); the windowed probability when a step has run and
        the window is full, else None."""
        self._frames.append(np.asarray(features, dtype=np.float64).reshape(-1))
        if len(self._frames) < self.stride:
            return None
        step = np.stack(self._frames)[np.newaxis]  # (1, stride, 40), oldest frame first
        self._frames.clear()
        quantized = np.round(step / self._input_scale + self._input_zero_point)
        quantized = np.clip(quantized, self._input_limits.min, self._input_limits.max)
        self._interpreter.set_tensor(self._input_index, quantized.astype(self._input_dtype))
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._output_index).reshape(-1)[0]
        self._recent.append((float(raw) - self._output_zero_point) * self._output_scale)
        if len(self._recent) < self.settings.sliding_window_size:
            return None
        return sum(self._recent) / len(self._recent)

    def reset(self) -> None:
        # The model's state is in resource variables, which reset_all_variables() leaves as they
        # are (it resets variable tensors only): start a new interpreter, as pymicro-wakeword does.
        self._start()


__all__ = ["LITERT_REQUIREMENT", "LiteRtMicroWakeWord", "MicroModelSettings", "MicroRuntime",
           "MicroRuntimeFacts", "choose_micro_runtime", "micro_package_dir", "native_library_error",
           "probe_micro_runtimes"]
