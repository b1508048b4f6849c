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
from collections.abc import Sequence
from dataclasses import dataclass

from satellite.audio.pcm import Pcm
from satellite.engines.stt import Transcript, WhisperStt, decoded_transcript
from satellite.engines.whisper_decode import PhraseOdds, fits_one_window

_LOGGER = logging.getLogger(__name__)


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
        _LOGGER.info("stt: questions that arrive together are transcribed in batches of up to %d",
                     max_batch)

    def batchable(self, pcm: Pcm) -> bool:
        return fits_one_window(pcm, self.config)

    def phrase_odds(self, pcm: Pcm, phrases: Sequence[str]) -> PhraseOdds:
        """The wake word's check, on the model alone (a room's, never batched with questions)."""
        return self.stt.phrase_odds(pcm, phrases)

    def transcribe(self, pcm: Pcm, hint: str | None = None, alternatives: int = 0) -> Transcript:
        if alternatives or not self.batchable(pcm):
            return self.stt.transcribe(pcm, hint, alternatives)
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
        return [decoded_transcript(d, self.config.language, pcm.seconds)
                for pcm, d in zip(pcms, self.stt.decoder.decode(pcms, hint), strict=True)]
