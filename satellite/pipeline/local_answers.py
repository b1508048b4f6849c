"""Questions the model cannot know the answer to (the time, the date) are answered here.

Also the policy for what must never come from the response cache: anything
whose answer changes with time (see ``is_time_sensitive``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

_TIME = re.compile(r"\b(what(?:'s| is)? (?:the )?time|what time is it|tell me the time|current time)\b")
_DATE = re.compile(
    r"\b(what(?:'s| is)? (?:the |today's |todays )?date|what day is (?:it|today)|"
    r"which day is (?:it|today)|what is today|today's date)\b"
)
_YEAR = re.compile(r"\bwhat year is it\b")
_NO_ACCESS = re.compile(r"\b(weather|forecast|temperature outside|news|headlines|stock price)\b")
_TIME_SENSITIVE = re.compile(
    r"\b(time|date|day|today|tonight|tomorrow|yesterday|now|current(?:ly)?|latest|this week|"
    r"weather|forecast|rain|news|score|open|timer|alarm|remind(?:er)?|calendar|schedule)\b"
)


def normalize_text(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


def is_time_sensitive(text: str) -> bool:
    """True if an answer to this may change with time, so it must not be served from a cache."""
    return bool(_TIME_SENSITIVE.search(normalize_text(text)))


def local_answer(text: str, now: Callable[[], dt.datetime] = dt.datetime.now) -> str | None:
    """A reply computed here for clock questions and things we have no source for; else None."""
    query = normalize_text(text)
    if _TIME.search(query):
        moment = now()
        return f"It's {_spoken_time(moment)}."
    if _DATE.search(query):
        moment = now()
        return f"Today is {moment.strftime('%A')}, {moment.strftime('%B')} {moment.day}, {moment.year}."
    if _YEAR.search(query):
        return f"It's {now().year}."
    if _NO_ACCESS.search(query):
        return "I'm offline, so I can't check that for you."
    return None


def _spoken_time(moment: dt.datetime) -> str:
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    if moment.minute == 0:
        return f"{hour} {suffix}"
    return f"{hour}:{moment.minute:02d} {suffix}"
