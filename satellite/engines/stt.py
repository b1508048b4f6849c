"""Speech to text: a small interface and its faster-whisper (CTranslate2, int8, CPU) implementation."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from satellite.audio.pcm import STT_RATE_HZ, Pcm
from satellite.config.paths import default_stt_model
from satellite.config.schema import SttConfig
from satellite.engines import whisper_window
from satellite.engines.whisper_decode import (
    Decoded,
    Hypothesis,
    PhraseOdds,
    WindowDecoder,
    fits_one_window,
)
from satellite.errors import ModelError

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    audio_s: float
    # Whisper's own doubt, the worst over the segments (None where the engine does not say: a
    # remote one): the mean token log-probability, the probability that there was no speech,
    # and the text's gzip compression ratio (a repeating hallucination compresses well).
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    # The beam's other hypotheses, best first, where they were asked for and the engine gives
    # them (``transcribe(alternatives=N)``; empty otherwise)
    alternatives: tuple[Hypothesis, ...] = ()


class SpeechToText(Protocol):
    name: str
    languages: list[str]

    def transcribe(self, pcm: Pcm, hint: str | None = None, alternatives: int = 0) -> Transcript:
        """Transcribe 16 kHz mono 16-bit PCM. ``hint``: words likely said, where the engine takes
        a prompt (Whisper's initial prompt; others ignore it). ``alternatives``: up to this many
        other hypotheses in ``Transcript.alternatives``, where the engine has them."""
        ...


class WhisperStt:
    """faster-whisper on the CPU; one model instance, safe to call from one thread at a time."""

    def __init__(self, config: SttConfig):
        self.config = config
        self.model_dir = Path(config.model).expanduser() if config.model else default_stt_model()
        _check_model_dir(self.model_dir)
        from faster_whisper import WhisperModel

        self.threads = config.threads or os.cpu_count() or 1
        try:
            self._model = WhisperModel(
                str(self.model_dir),
                device="cpu",
                compute_type=config.compute_type,
                cpu_threads=config.threads,
                local_files_only=True,
            )
        except Exception as error:  # CTranslate2 raises RuntimeError/ValueError on bad files
            raise ModelError(
                f"STT model in {self.model_dir} cannot be loaded ({error}); "
                "set stt.model to a CTranslate2 Whisper directory"
            ) from None
        self.name = self.model_dir.name if self.model_dir.name != "model" else "whisper-tiny.en"
        self._window_min_frames = round(config.window_s * 100)
        self._windowed = config.window_s < 30.0 and whisper_window.install()
        english_only = self._model.model.is_multilingual is False
        if english_only and config.language not in ("en", ""):
            raise ModelError(f"STT model {self.model_dir} is English-only but stt.language is "
                             f"'{config.language}'; set stt.model to a multilingual Whisper "
                             "(empty = Whisper base from PyPI, or a catalog name such as whisper-small)")
        self.languages = ["en"] if english_only else [config.language]

    @functools.cached_property
    def decoder(self) -> WindowDecoder:
        """The model's decoder called directly, for batches and the beam's other hypotheses."""
        return WindowDecoder(self._model, self.config)

    def phrase_odds(self, pcm: Pcm, phrases: Sequence[str]) -> PhraseOdds:
        """How likely one of ``phrases`` is at the start of ``pcm`` against what Whisper hears
        there (``WindowDecoder.phrase_odds``; the wake word's check)."""
        if not fits_one_window(pcm, self.config):
            raise ValueError("phrase_odds needs one window of 16 kHz mono 16-bit speech")
        return self.decoder.phrase_odds(pcm, phrases)

    def transcribe(self, pcm: Pcm, hint: str | None = None, alternatives: int = 0) -> Transcript:
        if pcm.rate_hz != STT_RATE_HZ or pcm.channels != 1 or pcm.width != 2:
            raise ValueError("WhisperStt needs 16 kHz mono 16-bit PCM")
        if pcm.frames == 0:
            return Transcript("", self.config.language, 0.0)
        if alternatives and fits_one_window(pcm, self.config):
            found = self.decoder.decode([pcm], hint or self.config.initial_prompt or None,
                                        alternatives + 1)[0]
            return decoded_transcript(found, self.config.language, pcm.seconds)
        frames = whisper_window.window_frames(round(pcm.seconds * 100), self._window_min_frames)
        with whisper_window.window(frames) if self._windowed else contextlib.nullcontext():
            segments, info = self._model.transcribe(
                pcm.float32(),
                language=self.config.language or None,
                beam_size=self.config.beam_size,
                initial_prompt=hint or self.config.initial_prompt or None,
                vad_filter=self.config.vad_filter,
                condition_on_previous_text=False,
                without_timestamps=True,
                temperature=0.0,
            )
            decoded = list(segments)  # decodes here
        text = " ".join(segment.text.strip() for segment in decoded).strip()
        if not decoded:
            return Transcript(text, info.language, pcm.seconds)
        return Transcript(text, info.language, pcm.seconds,
                          avg_logprob=min(s.avg_logprob for s in decoded),
                          no_speech_prob=max(s.no_speech_prob for s in decoded),
                          compression_ratio=max(s.compression_ratio for s in decoded))


def decoded_transcript(decoded: Decoded, language: str, audio_s: float) -> Transcript:
    """A window decoded directly, as ``transcribe`` gives it (no speech: no text, no figures)."""
    if not decoded.text:
        return Transcript("", language, audio_s)
    return Transcript(decoded.text, language, audio_s, avg_logprob=decoded.avg_logprob,
                      no_speech_prob=decoded.no_speech_prob,
                      compression_ratio=decoded.compression_ratio, alternatives=decoded.others)


def _check_model_dir(model_dir: Path) -> None:
    if not model_dir.is_dir():
        raise ModelError(f"STT model directory {model_dir} does not exist; set stt.model")
    for needed in ("model.bin", "config.json"):
        if not (model_dir / needed).is_file():
            raise ModelError(
                f"STT model directory {model_dir} has no {needed}; "
                "expected a CTranslate2 Whisper model (set stt.model)"
            )
