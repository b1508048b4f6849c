"""Questions the model cannot know the answer to (the time, the date) are answered here, and
those with one exact answer (arithmetic, units, spelling, date arithmetic: ``satellite.answers``).

Also the policy for what must never come from the response cache: anything
whose answer changes with time (see ``is_time_sensitive``).

English and Spanish (``language: es``); another language gets no local answer
(its clock questions go to the LLM, which is told it cannot know the time).
Text is matched with accents folded, so "¿Qué hora es?" is "que hora es".
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from satellite.answers import exact_answer

_TIME_SENSITIVE = re.compile(
    r"\b(time|date|day|today|tonight|tomorrow|yesterday|now|current(?:ly)?|latest|this week|"
    r"weather|forecast|rain|news|score|open|timer|alarm|remind(?:er)?|calendar|schedule|"
    # Spanish, accents folded
    r"hora|horas|fecha|dia|hoy|esta noche|manana|ayer|ahora|actual(?:mente)?|esta semana|tiempo|"
    r"clima|pronostico|llover|lluvia|noticias|resultado|abierto|temporizador|alarma|recordatorio|"
    r"calendario|agenda)\b"
)


@dataclass(frozen=True)
class ClockPhrases:
    """One language's clock questions and how its answers are said."""

    time: re.Pattern[str]
    date: re.Pattern[str]
    year: re.Pattern[str]
    no_access: re.Pattern[str]
    say_time: Callable[[dt.datetime], str]
    say_date: Callable[[dt.datetime], str]
    say_year: Callable[[dt.datetime], str]
    offline: str


def _english_time(moment: dt.datetime) -> str:
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    spoken = f"{hour} {suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d} {suffix}"
    return f"It's {spoken}."


_ES_DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_ES_MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
              "octubre", "noviembre", "diciembre")


def _spanish_time(moment: dt.datetime) -> str:
    """'Son las 7 y 5 de la tarde.', 'Es la una y media de la madrugada.', 'Son las 12 en punto del
    mediodía.' Numbers as digits: Piper's Spanish voices read them."""
    hour = moment.hour % 12 or 12
    head = "Es la una" if hour == 1 else f"Son las {hour}"
    minutes = {0: " en punto", 15: " y cuarto", 30: " y media"}.get(moment.minute, f" y {moment.minute}")
    if moment.hour < 6:
        part = "de la madrugada"
    elif moment.hour < 12:
        part = "de la mañana"
    elif moment.hour == 12:
        part = "del mediodía"
    elif moment.hour < 21:
        part = "de la tarde"
    else:
        part = "de la noche"
    return f"{head}{minutes} {part}."


def _spanish_date(moment: dt.datetime) -> str:
    return (f"Hoy es {_ES_DAYS[moment.weekday()]}, {moment.day} de {_ES_MONTHS[moment.month - 1]} "
            f"de {moment.year}.")


PHRASES: dict[str, ClockPhrases] = {
    "en": ClockPhrases(
        time=re.compile(r"\b(what(?:'s| is)? (?:the )?time|what time is it|tell me the time|current time)\b"),
        date=re.compile(r"\b(what(?:'s| is)? (?:the |today's |todays )?date|what day is (?:it|today)|"
                        r"which day is (?:it|today)|what is today|today's date)\b"),
        year=re.compile(r"\bwhat year is it\b"),
        no_access=re.compile(r"\b(weather|forecast|temperature outside|news|headlines|stock price)\b"),
        say_time=_english_time,
        say_date=lambda m: f"Today is {m.strftime('%A')}, {m.strftime('%B')} {m.day}, {m.year}.",
        say_year=lambda m: f"It's {m.year}.",
        offline="I'm offline, so I can't check that for you.",
    ),
    "es": ClockPhrases(
        time=re.compile(r"\b(que hora es|que horas son|(?:dime|me dices|me puedes decir|puedes decirme|"
                        r"sabes) (?:que hora es|la hora)|la hora (?:que es|actual)|a que hora estamos)\b"),
        date=re.compile(r"\b(que (?:dia|fecha) es(?: hoy)?|a que (?:dia|fecha) estamos|"
                        r"(?:dime|me dices|sabes) (?:la fecha|que dia es)|la fecha de hoy)\b"),
        year=re.compile(r"\b(?:en )?que ano (?:es|estamos)\b"),
        no_access=re.compile(r"\b(que tiempo (?:hace|hara|va a hacer)|el tiempo (?:de|para) (?:hoy|manana)|"
                             r"clima|pronostico|va a llover|noticias|titulares|la bolsa)\b"),
        say_time=_spanish_time,
        say_date=_spanish_date,
        say_year=lambda m: f"Estamos en {m.year}.",
        offline="No tengo conexión a internet, así que no puedo consultarlo.",
    ),
}


def normalize_text(text: str) -> str:
    """Lower case, accents folded (``¿Qué?`` → ``que``), punctuation gone, single spaces."""
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


def is_time_sensitive(text: str) -> bool:
    """True if an answer to this may change with time, so it must not be served from a cache."""
    return bool(_TIME_SENSITIVE.search(normalize_text(text)))


def local_answer(text: str, now: Callable[[], dt.datetime] = dt.datetime.now,
                 language: str = "en") -> str | None:
    """A reply computed here for clock questions and things we have no source for; else None."""
    phrases = PHRASES.get(language)
    if phrases is None:
        return None
    exact = exact_answer(text, now().date(), language)  # first: "what day is it in ten days"
    if exact is not None:
        return exact
    query = normalize_text(text)
    if phrases.time.search(query):
        return phrases.say_time(now())
    if phrases.date.search(query):
        return phrases.say_date(now())
    if phrases.year.search(query):
        return phrases.say_year(now())
    if phrases.no_access.search(query):
        return phrases.offline
    return None
