"""Misheard commands and look-alike non-commands, for the near-miss stage (#18, part 8).

``near_misses.tsv`` holds transcripts a speech-to-text model plausibly makes of a command (one
word off: "Por un temporizador de 10 minutos.", "Turn of the kitchen light.") and questions or
statements that look like commands ("¿Qué es eso?", "I turned off the kitchen light."), English
and Spanish, each with its kind:

- ``near_miss``: recovered, as the command that was said (``meant``), with its intent;
- ``declined``: a command misheard, left alone by decision (the last column says why: two words
  off, a missing word, another form of the verb);
- ``not_command``: never a command.

``HOME`` is the home they are said in: its areas and devices, as Home Assistant would name them.
``evaluate`` runs one line through a recognizer and says whether it came out as it should:
the scoring rule of the test and of ``scripts/bench_near_misses.py``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from satellite.intents.recognizer import IntentMatch

KINDS = ("near_miss", "declined", "not_command")
# language -> (areas, devices: a name, or a name with its Home Assistant domain)
HOME: dict[str, tuple[tuple[str, ...], tuple[str | tuple[str, str], ...]]] = {
    "en": (("kitchen", "living room", "bedroom", "bathroom", "office", "garage", "hallway"),
           ("kitchen light", "desk lamp", "ceiling fan", ("front door", "lock"),
            ("garage door", "cover"), ("TV", "media_player"), "porch light")),
    "es": (("cocina", "salón", "dormitorio", "baño", "despacho", "garaje", "pasillo"),
           ("luz de la cocina", "lámpara del escritorio", "ventilador del techo",
            ("puerta principal", "lock"), ("puerta del garaje", "cover"),
            ("persiana del salón", "cover"), ("tele", "media_player"), "luz del porche")),
}


@dataclass(frozen=True)
class NearMissLine:
    language: str
    kind: str
    heard: str
    meant: str = ""  # what was said (near_miss, declined)
    intent: str = ""  # near_miss: the intent it must reach; declined: why it is left alone


@dataclass(frozen=True)
class Outcome:
    line: NearMissLine
    ok: bool
    got: IntentMatch | None
    why: str = ""  # when not ok


def load_lines(language: str = "") -> list[NearMissLine]:
    """The shipped set, of one language or all."""
    text = resources.files("satellite.benchdata").joinpath("near_misses.tsv").read_text(encoding="utf-8")
    rows = [row for row in csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
            if row and not row[0].startswith("#")]
    lines = [NearMissLine(*row) for row in rows]
    for line in lines:
        if line.kind not in KINDS:
            raise ValueError(f"near_misses.tsv: unknown kind {line.kind!r} for {line.heard!r}")
    return [line for line in lines if not language or line.language == language]


def evaluate(line: NearMissLine, recognize: Callable[[str], IntentMatch | None]) -> Outcome:
    """A near miss must reach what was meant (intent and slots, as recognizing ``meant`` gives
    them) and must not match as heard (else it is no near miss); a declined line and a
    non-command must reach nothing."""
    got = recognize(line.heard)
    if line.kind != "near_miss":
        return Outcome(line, got is None, got, "" if got is None else f"matched {got.name}")
    meant = recognize(line.meant)
    if meant is None or meant.name != line.intent:
        return Outcome(line, False, got, f"what was meant does not match {line.intent}")
    if got is None:
        return Outcome(line, False, got, "not recovered")
    if got.heard is None:
        return Outcome(line, False, got, "matched as heard: not a near miss")
    if (got.name, got.entities) != (meant.name, meant.entities):
        return Outcome(line, False, got, f"reached {got.name} {got.entities}")
    return Outcome(line, True, got)
