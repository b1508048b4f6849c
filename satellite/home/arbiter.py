"""Which box answers when several heard the wake word: sans IO, plain claims and times.

Each box that hears the wake word makes a ``Claim``: how loud the speech was over its own
room's noise floor, and the wake model's score. It sends it to its peers and waits
``window_s`` for theirs; the best claim of those heard within the window answers, the others
go back to sleep without a chime. A box that hears no peer answers alone after the window.

The best claim is the loudest over its room's noise (``level_db``): the person is nearest to
it, or facing it. The wake model's score is near 1 for a clear wake word in every room that
hears it, so it only breaks ties: of the claims within ``TIE_DB`` of the loudest, those
within ``SCORE_TIE`` of their best score (the model's frame alignment alone moves it that
much), and of those the lowest box id. Every box picks from the same claims the same way (a
pairwise "beats" with ties is not transitive: three rooms at equal levels once gave two
winners' names and no answer), so two boxes never both answer nor both stay silent on
equal claims.

A peer whose claim came a whole window before ours (its wake word model ran ahead, or ours
was behind) has decided without hearing us: it answers, and so we stay silent, whatever our
claim. Exactly one box answers; the louder one when their wake words are heard within a
window of each other.

A box claims when its wake word *model* fires, before Whisper checks the phrase (``verdict``
follows the check): the check's time differs from box to box (a Pi reads slower than an N100,
a busy box slower than an idle one), the model's firing does not, so the louder box wins
whichever box reads faster. A box decides once its own check has heard the phrase and its
window has passed; a better peer whose verdict has not come yet is waited for (up to
``VERDICT_S`` after its claim), and one whose check refused it is out: the next best answers.
A claim without a verdict to come (``heard=True``: a box that does not check, or an older
one) counts as heard.
"""

from __future__ import annotations

from dataclasses import dataclass

TIE_DB = 1.0  # levels this close are a tie (the score, then the id, decides)
SCORE_TIE = 0.05  # scores this close are a tie too
PAIR_S = 1.5  # a peer's claim received this long before ours is about the same wake word
VERDICT_S = 6.0  # a better peer's check not heard of this long after its claim: it answers


@dataclass(frozen=True)
class Claim:
    box: str
    level_db: float  # the speech's level over the room's noise floor
    score: float  # the wake model's probability

    def beats(self, other: Claim) -> bool:
        return best_of([self, other]) is self


def best_of(claims: list[Claim]) -> Claim:
    """The claim that answers, the same on every box that weighs these claims."""
    loudest = max(c.level_db for c in claims)
    near = [c for c in claims if loudest - c.level_db <= TIE_DB]
    surest = max(c.score for c in near)
    sure = [c for c in near if surest - c.score <= SCORE_TIE]
    return min(sure, key=lambda c: c.box)


@dataclass(frozen=True)
class Decision:
    answer: bool
    winner: str  # the box that answers
    claims: tuple[Claim, ...]  # every claim weighed, ours first

    def describe(self) -> str:
        rest = ", ".join(f"{c.box} {c.level_db:+.1f} dB/{c.score:.2f}" for c in self.claims)
        return f"{'we answer' if self.answer else self.winner + ' answers'} ({rest})"


class Arbiter:
    def __init__(self, box: str, window_s: float):
        self.box = box
        self.window_s = window_s
        self._heard: list[tuple[float, Claim]] = []  # peers' claims, with when they arrived
        self._verdicts: dict[str, bool] = {}  # a peer's check of its last claim, once heard
        self._ours: tuple[float, Claim] | None = None
        self.last: Decision | None = None

    @property
    def claiming(self) -> bool:
        return self._ours is not None

    def peer_claim(self, claim: Claim, now: float, heard: bool | None = True) -> None:
        """A peer's wake word model fired (its claim arrived at ``now``); ``heard``: its check
        said so already (or it has none), ``None``: its ``peer_verdict`` follows."""
        self._heard = [(t, c) for t, c in self._heard
                       if now - t <= PAIR_S + self.window_s + VERDICT_S and c.box != claim.box]
        self._heard.append((now, claim))
        if heard is None:
            self._verdicts.pop(claim.box, None)
        else:
            self._verdicts[claim.box] = heard

    def peer_verdict(self, box: str, heard: bool) -> None:
        """A peer's check of its last claim: the phrase heard, or not (the claim is out)."""
        if any(c.box == box for _, c in self._heard):
            self._verdicts[box] = heard

    def our_claim(self, claim: Claim, now: float) -> float:
        """Our wake word model fired at ``now``: the time to decide at (``decide``), at the
        earliest."""
        self._ours = (now, claim)
        return now + self.window_s

    def withdraw(self) -> None:
        """Our check did not hear the phrase: no decision to make."""
        self._ours = None

    def decide(self, now: float) -> Decision | None:
        """After the window, our check having heard the phrase: answer, or leave it to the best
        claim heard. ``None`` while that claim's check is still to come (ask again later)."""
        assert self._ours is not None, "decide() before our_claim()"
        at, ours = self._ours
        # weighed: the peers' claims from a window before ours to a window after it (a later
        # one weighs ours as decided without it), and not refused by their own check
        heard = [(t, c) for t, c in self._heard if at - PAIR_S <= t <= min(now, at + self.window_s)
                 and self._verdicts.get(c.box) is not False]
        theirs = [c for _, c in heard]
        decided = [c for t, c in heard if t + self.window_s <= at]  # before our claim reached them
        best = best_of(decided) if decided else best_of([ours, *theirs])
        if best is not ours and self._verdicts.get(best.box) is None:
            arrived = next(t for t, c in heard if c is best)
            if now < arrived + VERDICT_S:
                return None
        decision = Decision(best is ours, best.box, (ours, *theirs))
        self._ours = None
        self.last = decision
        return decision
