"""Numbers in questions and answers: spoken numbers become digits (text2num's ``alpha2digit``,
which knows English, Spanish and five more languages, "one hundred and twenty three" and "dos
coma cinco"), and results are said with the language's decimal mark."""

from __future__ import annotations

import re
import unicodedata

from satellite.answers.words import Words

NUMBER = r"-?\d+(?:[.,]\d+)?"
DECIMALS = 4  # a rounded answer says "about" and keeps this many decimals at most


def normalize(text: str) -> str:
    """Lower case, accents folded, the question's punctuation gone; digits, their decimal mark and
    the arithmetic signs kept ("What's 2.5 × 4?" → "what's 2.5 * 4")."""
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'").replace("×", "*")
                                 .replace("÷", "/"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = re.sub(r"[¿?¡!;:\"()]+", " ", text)
    text = re.sub(r"(?<!\d)[.,]|[.,](?!\d)", " ", text)  # sentence punctuation, not 2.5 or 2,5
    text = re.sub(r"(?<=\d)%", " %", text)
    return " ".join(text.split())


def to_digits(text: str, words: Words, language: str) -> str:
    """The question normalized, its spoken numbers as digits. text2num reads the words with their
    accents ("veintitrés"), so it goes first; it leaves a lone small number after an operator
    ("times two"), which is read here where the question has other numbers."""
    from text_to_num import alpha2digit

    text = text.lower()
    if language == "es":  # "quince por ciento" must stay a percent, not "15 por 100"
        text = re.sub(r"\bpor ciento\b", "%", text)
    if language == "en":  # "count to a thousand"
        text = re.sub(r"\ba (hundred|thousand|million)\b", r"one \1", text)
    try:
        text = alpha2digit(text, language)
    except (ValueError, RuntimeError):  # a language text2num does not know
        pass
    text = normalize(text)
    if not re.search(r"\d", text):
        return text
    return " ".join(str(words.small_numbers.get(w, w)) for w in text.split())


def restore(folded: str, original: str) -> str:
    """``folded`` words as the question wrote them, accents and capitals kept ("kilometros" →
    "kilómetros"), where they are found in it."""
    forms = {normalize(word): word for word in re.findall(r"[\w'-]+", original)}
    return " ".join(forms.get(word, word) for word in folded.split())


def parse_number(text: str, decimal_comma: bool) -> float:
    return float(text.replace(",", ".")) if decimal_comma or "," in text else float(text)


def say_number(value: float, decimal_comma: bool, decimals: int = DECIMALS) -> tuple[str, bool]:
    """(what is said, whether it is exact): 42, -3, 2.5; 2.8284 for √8 (not exact)."""
    value = round(value, 10)  # 0.1 + 0.2 is 0.3, not 0.30000000000000004
    if value == int(value) and abs(value) < 1e15:
        return str(int(value)), True
    rounded = round(value, decimals)
    exact = rounded == value
    text = f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return (text.replace(".", ",") if decimal_comma else text), exact
