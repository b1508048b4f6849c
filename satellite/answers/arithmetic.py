"""Arithmetic said in words, computed: "what is three plus four times two" → "3 plus 4 times 2 is
11." Operator precedence as in school (powers, then times and divided by, then plus and minus);
"percent of", "squared", "cubed", "the square root of". A question that is not only numbers and
operators is not arithmetic (None): it goes on to the other answers and the LLM."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from satellite.answers.numbers import NUMBER, parse_number, say_number
from satellite.answers.words import Words

MAX_ABS = 1e15  # beyond this a spoken answer means nothing


class DivisionByZero(Exception):
    pass


class NegativeRoot(ValueError):
    pass


@dataclass(frozen=True)
class Token:
    kind: str  # "num" | "op"
    value: float | str
    text: str


def tokens(expression: str, words: Words) -> list[Token] | None:
    """The expression as numbers and operators, or None if anything else is in it."""
    names = sorted(words.operators, key=len, reverse=True)
    pattern = re.compile(r"\s*(?:(" + NUMBER + r")|(" + "|".join(map(re.escape, names)) +
                         r")(?![\w])|([-+*/^]))")
    found: list[Token] = []
    position = 0
    text = expression.strip()
    while position < len(text):
        match = pattern.match(text, position)
        if match is None or match.end() == position:
            return None
        number, word, symbol = match.groups()
        if number is not None:
            found.append(Token("num", parse_number(number, words.decimal_comma), number))
        else:
            op = words.operators[word] if word is not None else symbol
            found.append(Token("op", op, (word or symbol)))
        position = match.end()
    return found


class _Parser:
    """Recursive descent over the tokens: sum → product → power → unary → atom (postfix)."""

    def __init__(self, items: list[Token]):
        self.items = items
        self.at = 0

    def peek(self) -> Token | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self) -> Token:
        token = self.items[self.at]
        self.at += 1
        return token

    def is_op(self, *ops: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "op" and token.value in ops

    def expression(self) -> float:
        value = self.product()
        while self.is_op("+", "-"):
            op = self.take().value
            right = self.product()
            value = value + right if op == "+" else value - right
        return value

    def product(self) -> float:
        value = self.power()
        while self.is_op("*", "/", "%"):
            op = self.take().value
            right = self.power()
            if op == "*":
                value *= right
            elif op == "%":
                value = value / 100.0 * right
            else:
                if right == 0:
                    raise DivisionByZero
                value /= right
        return value

    def power(self) -> float:
        base = self.unary()
        if self.is_op("^"):
            self.take()
            exponent = self.power()  # right-associative
            if abs(exponent) > 1000:
                raise OverflowError
            return float(base ** exponent)
        return base

    def unary(self) -> float:
        if self.is_op("-"):
            self.take()
            return -self.unary()
        if self.is_op("sqrt"):
            self.take()
            value = self.unary()
            if value < 0:
                raise NegativeRoot
            return math.sqrt(value)
        return self.postfix()

    def postfix(self) -> float:
        token = self.peek()
        if token is None or token.kind != "num":
            raise ValueError("a number was expected")
        value = float(self.take().value)
        while self.is_op("sq", "cube"):
            value = value ** (2 if self.take().value == "sq" else 3)
        return value


def evaluate(items: list[Token]) -> float:
    parser = _Parser(items)
    value = parser.expression()
    if parser.at != len(items):
        raise ValueError("more after the expression")
    return value


def arithmetic_answer(query: str, words: Words) -> str | None:
    """``query`` normalized (numbers as digits); the spoken answer, or None if not arithmetic."""
    expression = _without_ask(query, words)
    if expression is None:
        return None
    items = tokens(expression, words)
    if not items or not any(t.kind == "op" for t in items) or not any(t.kind == "num" for t in items):
        return None
    if sum(t.kind == "num" for t in items) < 2 and not any(t.value in ("sqrt", "sq", "cube")
                                                           for t in items):
        return None  # "what is -5": nothing to compute
    said = " ".join(t.text if t.kind == "num" else words.say_operator[str(t.value)] for t in items)
    said = said[0].upper() + said[1:]
    try:
        value = evaluate(items)
    except DivisionByZero:
        return words.divide_by_zero
    except OverflowError:
        return words.too_big
    except NegativeRoot:
        return words.no_real_root
    except ValueError:  # not a well-formed expression after all ("plus 3 4")
        return None
    if not math.isfinite(value) or abs(value) > MAX_ABS:
        return words.too_big
    spoken, exact = say_number(value, words.decimal_comma)
    return (words.is_word if exact else words.about).format(expr=said, value=spoken)


def _without_ask(query: str, words: Words) -> str | None:
    for ask in sorted(words.asks, key=len, reverse=True):
        if query.startswith(ask + " "):
            rest = re.sub(r"^(?:el|the) (?=-?\d)", "", query[len(ask) + 1:])  # "el 25 % de 200"
            return rest.removesuffix(" equal").removesuffix(" equals").strip()
    return None
