"""How sure the language model was of what it said: the ground for "I'm not sure".

The measure is the model's own probability of each word it adds to the question: a word
that is neither in the question nor a function word ("Paris" in "The capital of France is
Paris.") carries the answer, and a small model that does not know picks it with low
probability ("The freezing point of water in Celsius is -18": 0.10; "…France is Paris": 0.96).
A sentence's confidence is the lowest of its new words' probabilities (a word's probability is
the product of its tokens'). Chosen on our tuning set (``satellite/benchdata/facts_dev.tsv``,
scripts/bench_unsure.py) against the mean log-probability of the tokens and the first new
word's probability: it separates right from wrong answers best (docs/benchmarks.md).

Words that only say the question back ("The capital of France is") commit the box to nothing:
a reply that starts with them may be heard before its answer is judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from satellite.pipeline.sentence_kind import WORD, fold

# Function words: they carry no answer, whatever their probability.
FUNCTION_WORDS = {
    "en": frozenset("""
        a an the is are was were be been being am of in on at to for from by with as into onto
        about over under and or but nor so if than then that this these those there here it its
        it's they them their he she his her him we our you your i my me do does did not
        can could will would should may might must has have had which who whom whose what when
        where why how also just very often usually typically generally approximately about around
        roughly most more less many much some any all each one called known answer
        """.split()),
    "es": frozenset("""
        el la los las lo un una unos unas de del al a en y o u e ni que se es son era eran fue
        ser esta este estos estas está están hay por para con sin sobre como más menos muy su sus
        mi mis tu tus le les me te nos ya también si cual cuál quien quién donde dónde
        cuando cuándo cuanto cuánto cuántos cuántas qué respuesta llamado llamada aproximadamente
        """.split()),
}


def _function_words(language: str) -> frozenset[str]:
    folded = FUNCTION_WORDS.get(language, frozenset()) | FUNCTION_WORDS["en"]
    return frozenset(fold(w) for w in folded)


@dataclass
class ReplyConfidence:
    """Follows a streamed reply (``feed`` each piece, with its tokens' probabilities) and judges
    the text up to a point (``judge``): the lowest probability of a word that the reply adds to
    ``question``. Pieces without probabilities (a remote model) leave the reply unjudged."""

    question: str
    language: str = "en"
    text: str = ""
    known: bool = True  # every piece came with probabilities
    _spans: list[tuple[int, int, float]] = field(default_factory=list)  # (start, end, probability)
    _judged_to: int = 0
    _asked: frozenset[str] = frozenset()
    _function: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self._asked = frozenset(fold(w) for w in WORD.findall(self.question))
        self._function = _function_words(self.language)

    def feed(self, piece: str) -> None:
        tokens = getattr(piece, "tokens", ())
        if not tokens:
            self.known = False
        start = len(self.text)
        self.text += piece
        probability = 1.0
        for _, p in tokens:
            probability *= p
        self._spans.append((start, len(self.text), probability))

    def new_words(self, text: str) -> list[str]:
        """The words of ``text`` that are neither in the question nor function words."""
        return [w for w in WORD.findall(text)
                if fold(w) not in self._asked and fold(w) not in self._function]

    def restates(self, text: str) -> bool:
        """``text`` only says the question back (or nothing): it commits to no answer."""
        return not self.new_words(text)

    def judge(self, upto: int) -> tuple[float, list[str]] | None:
        """(confidence, new words) of the text fed between the last judged point and ``upto``
        (a character offset in ``text``); None when there is nothing new in it, or no
        probabilities to judge by."""
        start, self._judged_to = self._judged_to, max(self._judged_to, upto)
        if not self.known:
            return None
        lowest: float | None = None
        words: list[str] = []
        for match in WORD.finditer(self.text, start, upto):
            word = match.group()
            if fold(word) in self._asked or fold(word) in self._function:
                continue
            probability = 1.0
            for s, e, p in self._spans:
                if s < match.end() and e > match.start():
                    probability *= p
            words.append(word)
            lowest = probability if lowest is None else min(lowest, probability)
        return None if lowest is None else (lowest, words)

    @property
    def judged_to(self) -> int:
        return self._judged_to
