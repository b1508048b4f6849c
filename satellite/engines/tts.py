"""Text to speech: a small interface and its Piper (ONNX via onnxruntime) implementation."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from piper import PiperVoice

from satellite.audio.pcm import Pcm
from satellite.audio.silence import trim_silence
from satellite.config.paths import default_tts_voice
from satellite.config.schema import TtsConfig
from satellite.errors import ModelError

_LOGGER = logging.getLogger(__name__)

# What a text to speak says about what follows it (a reply is spoken in pieces, #18 part 7):
GOES_ON = "\u2026"  # "…" ends a piece cut between two words of a sentence that goes on
_CLAUSE_END = (",", ";", ":")


def seam_after(text: str) -> str:
    """What follows ``text`` in its sentence: ``"word"`` (it ends with ``GOES_ON``: a piece cut
    between two words), ``"clause"`` (it ends at , ; :) or ``"sentence"`` (anything else)."""
    text = text.rstrip()
    if text.endswith(GOES_ON):
        return "word"
    return "clause" if text.endswith(_CLAUSE_END) else "sentence"


def unmarked(text: str) -> str:
    """``text`` without the ``GOES_ON`` mark: the words as written."""
    return text.rstrip().removesuffix(GOES_ON)


# Silence kept at the edges of what Piper says, in ms (measured on en_US-joe-medium with
# scripts/bench_seams.py, see docs/benchmarks.md): before the first sound, and after the last
# by what follows. Given a whole sentence, Piper pauses ~0-70 ms between words, ~215 ms at a
# comma and ~230 ms between two sentences; each piece alone it begins with ~30-50 ms and ends
# with 100-250 ms of silence, which at a seam between two words made ~200 ms.
EDGE_MS = 5.0
PAUSE_AFTER_MS = {"word": 5.0, "clause": 190.0, "sentence": 200.0}


@dataclass(frozen=True)
class VoiceInfo:
    name: str
    language: str
    sample_rate_hz: int
    speakers: list[str]
    model_path: Path


class TextToSpeech(Protocol):
    voice: VoiceInfo

    def synthesize(self, text: str, speaker: int | None = None) -> Iterator[Pcm]:
        """Yield 16-bit mono PCM at ``voice.sample_rate_hz``, one block per sentence.

        A text ending with ``GOES_ON`` is the start of a sentence that goes on: spoken so,
        without the voice's closing pause (see ``seam_after``)."""
        ...

    def identity(self, speaker: int | None = None) -> str:
        """Everything that changes the sound: stored audio is replayed only for the same identity."""
        ...


class PiperTts:
    def __init__(self, config: TtsConfig, voice_path: str | Path | None = None):
        self.config = config
        path = voice_path or config.voice
        self.model_path = Path(path).expanduser() if path else default_tts_voice()
        if voice_path is None and config.voice_config:
            self.config_path = Path(config.voice_config).expanduser()
        else:
            self.config_path = Path(f"{self.model_path}.json")
        self.threads = config.threads or os.cpu_count() or 1  # onnxruntime's own default: all cores
        self.voice = self._load()

    def _load(self) -> VoiceInfo:
        if not self.model_path.is_file():
            raise ModelError(f"Piper voice {self.model_path} does not exist; set tts.voice")
        if not self.config_path.is_file():
            raise ModelError(f"Piper voice config {self.config_path} does not exist; "
                             "put the .onnx.json beside the voice or set tts.voice_config")
        try:
            meta = json.loads(self.config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ModelError(f"Piper voice config {self.config_path} is not valid JSON ({error})"
                             ) from None
        try:
            self._piper = self._load_piper(meta)
        except Exception as error:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise ModelError(f"Piper voice {self.model_path} cannot be loaded "
                             f"({type(error).__name__}); set tts.voice to a Piper .onnx") from None
        name = self.model_path.name.removesuffix(".onnx")
        language = meta.get("language", {}).get("code", "") or self._piper.config.espeak_voice
        speakers = sorted(self._piper.config.speaker_id_map, key=self._piper.config.speaker_id_map.get)
        return VoiceInfo(name, language, self._piper.config.sample_rate, speakers, self.model_path)

    def _load_piper(self, meta: dict[str, Any]) -> PiperVoice:
        """PiperVoice with our own onnxruntime session options.

        onnxruntime's CPU arena and memory patterns keep the peak of every input
        length ever seen: ~190 MB more after a few dozen sentences. With
        ``tts.low_memory`` they are off (see docs/benchmarks.md for the cost).
        """
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        options = onnxruntime.SessionOptions()
        options.enable_cpu_mem_arena = not self.config.low_memory
        options.enable_mem_pattern = not self.config.low_memory
        if self.config.threads:
            options.intra_op_num_threads = self.config.threads
        session = onnxruntime.InferenceSession(str(self.model_path), sess_options=options,
                                               providers=["CPUExecutionProvider"])
        return PiperVoice(session=session, config=PiperConfig.from_dict(meta))

    def identity(self, speaker: int | None = None) -> str:
        c = self.config
        size = self.model_path.stat().st_size if self.model_path.is_file() else 0
        speaker_id = speaker if speaker is not None else c.speaker
        return (f"{self.voice.name}:{size}:speaker={speaker_id}:length={c.length_scale}:"
                f"noise={c.noise_scale}/{c.noise_w}:volume={c.volume}:edges=trimmed")

    def synthesize(self, text: str, speaker: int | None = None) -> Iterator[Pcm]:
        from piper import SynthesisConfig

        num_speakers = self._piper.config.num_speakers
        speaker_id = speaker if speaker is not None else self.config.speaker
        syn = SynthesisConfig(
            speaker_id=speaker_id if num_speakers > 1 and speaker_id < num_speakers else None,
            length_scale=self.config.length_scale,
            noise_scale=self.config.noise_scale,
            noise_w_scale=self.config.noise_w,
            volume=self.config.volume,
        )
        seam = seam_after(text)
        # a sentence that goes on is spoken as up to a comma: espeak-ng and the voice give a
        # piece that ends in a bare word the falling pitch of a sentence's end
        spoken = unmarked(text) + "," if seam == "word" else text
        rate = self._piper.config.sample_rate
        blocks = [chunk.audio_int16_array for chunk in self._piper.synthesize(spoken, syn_config=syn)]
        if blocks:
            blocks[0] = trim_silence(blocks[0], rate, keep_start_ms=EDGE_MS, keep_end_ms=None)
            blocks[-1] = trim_silence(blocks[-1], rate, keep_start_ms=None, keep_end_ms=PAUSE_AFTER_MS[seam])
        for block in blocks:
            yield Pcm(block.astype("<i2").tobytes(), rate)
