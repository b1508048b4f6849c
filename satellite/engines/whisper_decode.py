"""Whisper's decoder over short windows of speech, called directly (CTranslate2's ``generate``).

faster-whisper's ``transcribe`` decodes one input at a time and keeps only the best hypothesis
of its beam. Two callers need more of the same decode: the batch (``stt_batch``: several rooms'
questions through the encoder and the beam search together) and the stop check (the beam's
other hypotheses: speech over the box's own voice that the best hypothesis gets wrong,
"Start talking." for "Stop talking.", often has the right words second). Both decode here, with
faster-whisper's own options at temperature 0 (so the best hypothesis is what ``transcribe``
gives) on one window of at most ``MAX_WINDOW_S`` of speech in a known language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from satellite.audio.pcm import STT_RATE_HZ, Pcm
from satellite.config.schema import SttConfig
from satellite.engines import whisper_window

MAX_WINDOW_S = 28.0  # one window of Whisper's 30 s, with room for the tail
# faster-whisper's defaults: a window the model thinks silent and decodes unsure is no speech
# (its ``transcribe`` gives no segment; here the text is empty, with no other hypotheses)
NO_SPEECH_PROB = 0.6
SPEECH_MIN_LOGPROB = -1.0


@dataclass(frozen=True)
class Hypothesis:
    """One of the beam's hypotheses, with its mean token log-probability (as ``avg_logprob``)."""

    text: str
    avg_logprob: float


@dataclass(frozen=True)
class Decoded:
    text: str  # "" where the window is no speech
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float | None
    others: tuple[Hypothesis, ...]  # the beam's other hypotheses, best first


def fits_one_window(pcm: Pcm, config: SttConfig) -> bool:
    """Whether ``pcm`` can be decoded here: one window in the configured language, 16 kHz mono."""
    return (pcm.frames > 0 and pcm.seconds <= MAX_WINDOW_S and not config.vad_filter
            and bool(config.language) and pcm.rate_hz == STT_RATE_HZ and pcm.channels == 1
            and pcm.width == 2)


class WindowDecoder:
    """Decodes windows with a faster-whisper ``WhisperModel`` (``model``) as its ``transcribe``
    would; safe from one thread at a time, as the model is."""

    def __init__(self, model: Any, config: SttConfig):
        from faster_whisper.tokenizer import Tokenizer

        self.model, self.config = model, config
        self.tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                                   task="transcribe", language=config.language)

    def decode(self, pcms: list[Pcm], hint: str | None, hypotheses: int = 1) -> list[Decoded]:
        """The best hypothesis of each window (and up to ``hypotheses`` - 1 others, at most the
        beam's size), all windows through the encoder and the beam search as one batch."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

        model, config, tokenizer = self.model, self.config, self.tokenizer
        mels = [model.feature_extractor(pcm.float32())[..., :-1] for pcm in pcms]
        frames = whisper_window.window_frames(max(m.shape[-1] for m in mels),
                                              round(config.window_s * 100))
        features = np.stack([pad_or_trim(mel, frames) for mel in mels])
        previous = tokenizer.encode(" " + hint.strip()) if hint else []
        prompt = model.get_prompt(tokenizer, previous_tokens=previous, without_timestamps=True)
        results = model.model.generate(
            model.encode(features), [list(prompt) for _ in pcms],
            beam_size=config.beam_size, patience=1.0, length_penalty=1.0,
            num_hypotheses=max(1, min(hypotheses, config.beam_size)),
            max_length=model.max_length, suppress_blank=True,
            suppress_tokens=list(get_suppressed_tokens(tokenizer, [-1])),
            return_scores=True, return_no_speech_prob=True, sampling_temperature=0.0,
            repetition_penalty=1.0, no_repeat_ngram_size=0)
        decoded = []
        for result in results:
            found = [self._hypothesis(ids, score)
                     for ids, score in zip(result.sequences_ids, result.scores, strict=True)]
            best = found[0]
            if result.no_speech_prob > NO_SPEECH_PROB and best.avg_logprob <= SPEECH_MIN_LOGPROB:
                decoded.append(Decoded("", best.avg_logprob, result.no_speech_prob, None, ()))
                continue
            decoded.append(Decoded(
                best.text, best.avg_logprob, result.no_speech_prob,
                get_compression_ratio(best.text) if best.text else None, tuple(found[1:])))
        return decoded

    def _hypothesis(self, ids: list[int], score: float) -> Hypothesis:
        tokens = [t for t in ids if t < self.tokenizer.eot]
        # CTranslate2's score is the log-probabilities' sum over the tokens' count (length penalty 1);
        # faster-whisper counts the end of text too
        return Hypothesis(self.tokenizer.decode(tokens).strip(), score * len(ids) / (len(ids) + 1))


__all__ = ["MAX_WINDOW_S", "Decoded", "Hypothesis", "WindowDecoder", "fits_one_window"]
