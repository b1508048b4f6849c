"""Transcriptions that arrive together, run as one batch through Whisper (faster-whisper's batch).

The engine box of a home hears every room. When several rooms finish a question at once,
the second would wait for the first's whole transcription; here whoever arrives while a
batch computes waits for it to end, and the next batch takes every waiting question (up
to ``stt.batch``) through Whisper's encoder and beam search together, as faster-whisper's
own batched pipeline does (``WhisperModel.encode`` and CTranslate2's ``generate`` over a
batch of mel windows). A question that arrives while the engine is idle runs at once, alone:
one room loses nothing.

What is batched is what a room asks: one window of speech (at most 28 s) in the configured
language, with or without a prompt (questions with different prompts are not mixed in one
batch: the prompt is the decoder's). Anything else (a long recording, language detection,
Whisper's VAD filter) goes through the one-at-a-time path.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from satellite.audio.pcm import STT_RATE_HZ, Pcm
from satellite.engines import whisper_window
from satellite.engines.stt import Transcript, WhisperStt

_LOGGER = logging.getLogger(__name__)
MAX_BATCH_S = 28.0  # one window of Whisper's 30 s, with room for the tail


@dataclass
class _Question:
    pcm: Pcm
    hint: str | None
    result: Transcript | None = None
    error: BaseException | None = None
    done: bool = False


class BatchedStt:
    """``SpeechToText`` over ``stt``'s model, up to ``max_batch`` questions per run."""

    def __init__(self, stt: WhisperStt, max_batch: int):
        self.stt = stt
        self.max_batch = max_batch
        self.config = stt.config
        self.name = stt.name
        self.languages = stt.languages
        self.threads = stt.threads
        self.model_dir = stt.model_dir
        self._waiting: deque[_Question] = deque()
        self._busy = False
        self._cond = threading.Condition()
        self.batches: list[int] = []  # the size of each batch run (the last few hundred)
        self._tokenizer: Any = None
        _LOGGER.info("stt: questions that arrive together are transcribed in batches of up to %d",
                     max_batch)

    def batchable(self, pcm: Pcm) -> bool:
        config = self.config
        return (pcm.frames > 0 and pcm.seconds <= MAX_BATCH_S and not config.vad_filter
                and bool(config.language) and pcm.rate_hz == STT_RATE_HZ and pcm.channels == 1
                and pcm.width == 2)

    def transcribe(self, pcm: Pcm, hint: str | None = None) -> Transcript:
        if not self.batchable(pcm):
            return self.stt.transcribe(pcm, hint)
        question = _Question(pcm, hint or self.config.initial_prompt or None)
        with self._cond:
            self._waiting.append(question)
            while not question.done:
                if self._busy:
                    self._cond.wait()
                    continue
                batch = self._take()
                self._busy = True
                self._cond.release()
                try:
                    self._run(batch)
                finally:
                    self._cond.acquire()
                    self._busy = False
                    self._cond.notify_all()
        if question.error is not None:
            raise question.error
        assert question.result is not None
        return question.result

    def _take(self) -> list[_Question]:
        """The oldest waiting question and those after it with the same prompt."""
        first = self._waiting[0]
        batch = [q for q in self._waiting if q.hint == first.hint][:self.max_batch]
        for question in batch:
            self._waiting.remove(question)
        return batch

    def _run(self, batch: list[_Question]) -> None:
        try:
            results = self._transcribe_batch([q.pcm for q in batch], batch[0].hint)
        except BaseException as error:  # every question of the batch gets the engine's error
            for question in batch:
                question.error, question.done = error, True
            return
        for question, result in zip(batch, results, strict=True):
            question.result, question.done = result, True
        self.batches = [*self.batches[-255:], len(batch)]

    def _transcribe_batch(self, pcms: list[Pcm], hint: str | None) -> list[Transcript]:
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

        model = self.stt._model
        config = self.config
        if self._tokenizer is None:
            self._tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                                        task="transcribe", language=config.language)
        tokenizer = self._tokenizer
        mels = [model.feature_extractor(pcm.float32())[..., :-1] for pcm in pcms]
        frames = whisper_window.window_frames(max(m.shape[-1] for m in mels),
                                              round(config.window_s * 100))
        features = np.stack([pad_or_trim(mel, frames) for mel in mels])
        previous = tokenizer.encode(" " + hint.strip()) if hint else []
        prompt = model.get_prompt(tokenizer, previous_tokens=previous, without_timestamps=True)
        results = model.model.generate(
            model.encode(features), [list(prompt) for _ in pcms],
            beam_size=config.beam_size, patience=1.0, length_penalty=1.0,
            max_length=model.max_length, suppress_blank=True,
            suppress_tokens=list(get_suppressed_tokens(tokenizer, [-1])),
            return_scores=True, return_no_speech_prob=True, sampling_temperature=0.0,
            repetition_penalty=1.0, no_repeat_ngram_size=0)
        transcripts = []
        for pcm, result in zip(pcms, results, strict=True):
            tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
            text = tokenizer.decode(tokens).strip()
            length = len(result.sequences_ids[0])
            transcripts.append(Transcript(
                text, config.language, pcm.seconds,
                avg_logprob=result.scores[0] * length / (length + 1),
                no_speech_prob=result.no_speech_prob,
                compression_ratio=get_compression_ratio(text) if text else None))
        return transcripts
