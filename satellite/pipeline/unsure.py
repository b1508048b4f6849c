"""Say "I'm not sure" instead of guessing: the rule the turn service applies to an LLM reply.

Only a question is checked (a joke or a chat has no wrong answer). Its reply streams as
always, with three differences:

- The first words may be heard before their sentence ends only when they say the question back
  ("The capital of Portugal is"): they commit the box to no answer. Words that carry one wait
  for their sentence's verdict.
- A sentence that adds nothing to the question is held until one that answers (the rest of a
  first clause, "When you mix blue and yellow, …"); a reply that never answers ends "I'm not
  sure".
- The first sentence that answers is judged (``ReplyConfidence``): below ``min_confidence`` it
  is replaced by "I'm not sure about that one." and generation stops. A later sentence below
  it ends the reply there, unsaid: the answer already given stands.
"""

from __future__ import annotations

from satellite.pipeline.confidence import ReplyConfidence
from satellite.pipeline.sentence_kind import is_question

UNSURE = "I'm not sure about that one."
UNSURE_BY_LANGUAGE = {"en": UNSURE, "es": "No estoy seguro de eso."}


class UnsureCheck:
    def __init__(self, question: str, language: str, min_confidence: float):
        self.min_confidence = min_confidence
        self.active = min_confidence > 0 and is_question(question, language)
        self.unsure = UNSURE_BY_LANGUAGE.get(language, UNSURE)
        self._reply = ReplyConfidence(question, language)
        self._held: list[str] = []
        self.answered = False
        self.said_unsure = False
        self.stopped: str | None = None  # "unsure" once the check ended the reply
        self.confidence: float | None = None  # of the first sentence that answered

    @property
    def text(self) -> str:
        """The reply so far, as streamed."""
        return self._reply.text

    @property
    def judging(self) -> bool:
        return self.active and self._reply.known

    def feed(self, piece: str) -> None:
        self._reply.feed(piece)

    def may_begin(self, words: str) -> bool:
        """Whether the reply's first ``words`` may be heard before their sentence is judged."""
        return not self.judging or self._reply.restates(words)

    def filter(self, sentences: list[str], upto: int) -> list[str]:
        """Of ``sentences`` (the reply's text up to the offset ``upto``), those to say now."""
        if not sentences:
            return []
        if not self.judging:
            held, self._held = self._held, []
            return held + sentences
        if self.stopped:
            return []
        verdict = self._reply.judge(upto)
        if verdict is None:  # says the question back: wait for the answer
            if self.answered:
                return sentences
            self._held.extend(sentences)
            return []
        confidence, _ = verdict
        if self.confidence is None:
            self.confidence = confidence
        if confidence >= self.min_confidence:
            self.answered = True
            held, self._held = self._held, []
            return held + sentences
        self.stopped = "unsure"
        self._held = []
        if self.answered:
            return []
        self.said_unsure = True
        return [self.unsure]

    def finish(self) -> list[str]:
        """After the last sentence: "I'm not sure" for a question the reply never answered (what
        it held back said nothing new), else nothing."""
        self._held = []
        if not self.judging or self.answered or self.said_unsure or self.stopped:
            return []
        self.said_unsure = True
        return [self.unsure]
