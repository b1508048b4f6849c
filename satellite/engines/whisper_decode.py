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

from collections.abc import Sequence
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
    tokens: tuple[int, ...] = ()  # the best hypothesis's tokens, where asked for


@dataclass(frozen=True)
class PhraseOdds:
    """``phrase_odds``: the log-probability ratio, the phrase it is for, and what Whisper heard."""

    logodds: float
    phrase: str
    heard: str


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
        return self._decode(self._encode(pcms), hint, hypotheses)

    def phrase_odds(self, pcm: Pcm, phrases: Sequence[str]) -> PhraseOdds:
        """How much likelier Whisper finds the best of ``phrases`` in ``pcm`` than what it hears
        there itself: the log-probabilities of the phrase's tokens, read with the audio
        (teacher-forced, CTranslate2's ``align``), minus those of as many tokens of its own best
        hypothesis from the same place. The phrase is read where Whisper's hypothesis has the
        phrase's first word ("to her, Okay, now boo." → after "to her,"), else at the start.
        Where its hypothesis ends before the phrase does, its end of text is taken as certain
        (``align`` gives it no probability): "Okay." heard alone weighs all of "Okay, Nabu."
        against "Okay." 0: the phrase is what it hears; well below: something else. One encoder
        pass for the decode and every reading."""
        if not phrases:
            raise ValueError("phrase_odds needs a phrase")
        encoded = self._encode([pcm])
        heard = self._decode(encoded, None, 1, tokens=True)[0]
        tokenizer = self.tokenizer
        own = list(heard.tokens)
        readings = []  # (where the phrase starts, what Whisper heard before it + the phrase)
        for phrase in phrases:
            at = self._first_word_at(own, phrase)
            readings.append((at, own[:at] + tokenizer.encode(" " + phrase.strip())))
        sequences = [sequence for _, sequence in readings] + [own or [tokenizer.eot]]
        frames = min(self._frames(pcm), encoded.shape[1] * 2)
        batch = ctranslate2_repeat(encoded, len(sequences))
        prompt = list(self.model.get_prompt(tokenizer, previous_tokens=[], without_timestamps=True))
        aligned = self.model.model.align(batch, prompt, sequences, [frames] * len(sequences))
        own_logprobs = _logprobs(aligned[-1].text_token_probs) if own else []
        odds = [sum(_logprobs(result.text_token_probs)[at:]) - sum(own_logprobs[at:len(sequence)])
                for (at, sequence), result in zip(readings, aligned, strict=False)]
        best = int(np.argmax(odds))
        return PhraseOdds(float(odds[best]), phrases[best], heard.text)

    def _first_word_at(self, tokens: list[int], phrase: str) -> int:
        """The index of the first token of ``tokens`` that starts a word the phrase starts with
        (ok and okay alike), or 0."""
        first = _word(phrase.split()[0]) if phrase.split() else ""
        alike = {"ok", "okay"} if first in ("ok", "okay") else {first}
        for index, token in enumerate(tokens):
            text = self.tokenizer.decode([token])
            if (index == 0 or text.startswith(" ")) and _word(text) in alike:
                return index
        return 0

    def _frames(self, pcm: Pcm) -> int:
        return pcm.frames // self.model.feature_extractor.hop_length

    def _encode(self, pcms: list[Pcm]) -> Any:
        from faster_whisper.audio import pad_or_trim

        model = self.model
        mels = [model.feature_extractor(pcm.float32())[..., :-1] for pcm in pcms]
        frames = whisper_window.window_frames(max(m.shape[-1] for m in mels),
                                              round(self.config.window_s * 100))
        return model.encode(np.stack([pad_or_trim(mel, frames) for mel in mels]))

    def _decode(self, encoded: Any, hint: str | None, hypotheses: int,
                tokens: bool = False) -> list[Decoded]:
        from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

        model, config, tokenizer = self.model, self.config, self.tokenizer
        count = encoded.shape[0]
        previous = tokenizer.encode(" " + hint.strip()) if hint else []
        prompt = model.get_prompt(tokenizer, previous_tokens=previous, without_timestamps=True)
        results = model.model.generate(
            encoded, [list(prompt) for _ in range(count)],
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
            ids = tuple(t for t in result.sequences_ids[0] if t < tokenizer.eot) if tokens else ()
            if result.no_speech_prob > NO_SPEECH_PROB and best.avg_logprob <= SPEECH_MIN_LOGPROB:
                decoded.append(Decoded("", best.avg_logprob, result.no_speech_prob, None, (), ids))
                continue
            decoded.append(Decoded(
                best.text, best.avg_logprob, result.no_speech_prob,
                get_compression_ratio(best.text) if best.text else None, tuple(found[1:]), ids))
        return decoded

    def _hypothesis(self, ids: list[int], score: float) -> Hypothesis:
        tokens = [t for t in ids if t < self.tokenizer.eot]
        # CTranslate2's score is the log-probabilities' sum over the tokens' count (length penalty 1);
        # faster-whisper counts the end of text too
        return Hypothesis(self.tokenizer.decode(tokens).strip(), score * len(ids) / (len(ids) + 1))


def ctranslate2_repeat(encoded: Any, count: int) -> Any:
    """``count`` copies of one encoded window as a batch (the encoder runs once)."""
    import ctranslate2

    if count == 1:
        return encoded
    return ctranslate2.StorageView.from_array(np.repeat(np.asarray(encoded), count, axis=0))


def _word(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _logprobs(probabilities: Sequence[float]) -> list[float]:
    return [float(np.log(max(p, 1e-9))) for p in probabilities]


__all__ = ["MAX_WINDOW_S", "Decoded", "Hypothesis", "PhraseOdds", "WindowDecoder",
           "fits_one_window"]
