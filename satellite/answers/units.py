"""Unit conversions said in words, computed with pint: "convert 10 miles to kilometers" → "10 miles
is 16.0934 kilometers." Length, mass, volume, temperature, time and speed, metric and US; the
unit names each language uses are in ``words``. Temperatures are converted as temperatures
(100 °F is 37.7778 °C), not as differences."""

from __future__ import annotations

import functools
import re
from typing import Any

from satellite.answers.numbers import parse_number, restore, say_number
from satellite.answers.words import Words


@functools.cache
def registry() -> Any:
    import pint

    return pint.UnitRegistry()


def conversion_answer(query: str, original: str, words: Words) -> str | None:
    for pattern in words.convert:
        match = re.match(pattern, query)
        if match is None:
            continue
        src, dst = _unit(match["src"], words), _unit(match["dst"], words)
        explicit = query.split(" ", 1)[0] in words.convert_verbs
        if (src is None or dst is None) and explicit:  # "convert 10 blorps to meters"
            unknown = match["src"] if src is None else match["dst"]
            return words.unknown_unit.format(unit=restore(unknown, original))
        if src is None or dst is None or src == dst:
            continue
        amount = 1.0 if match["n"] in ("a", "an", "un", "una") else \
            parse_number(match["n"], words.decimal_comma)
        units = registry()
        try:
            value = units.Quantity(amount, src).to(dst).magnitude
        except Exception:  # pint.DimensionalityError: "miles to kilograms"
            if explicit:
                return words.incompatible.format(src=restore(match["src"], original),
                                                 dst=restore(match["dst"], original))
            return None
        spoken, exact = say_number(float(value), words.decimal_comma, decimals=2)
        n, _ = say_number(amount, words.decimal_comma)
        said = words.conversion if exact else words.conversion_about
        return said.format(n=n, src=restore(match["src"], original), value=spoken,
                           dst=restore(match["dst"], original))
    return None


def _unit(name: str, words: Words) -> str | None:
    name = re.sub(r"^(?:the |a |an |los |las |el |la |un |una )", "", name.strip())
    for candidate in (name, name.removeprefix("degrees "), name.removeprefix("grados ")):
        if candidate in words.units:
            return words.units[candidate]
    return None
