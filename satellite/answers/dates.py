"""Date arithmetic from the box's clock: "what day is it in ten days", "how many days until
Christmas", "what's the date next Friday", and the Spanish of each."""

from __future__ import annotations

import datetime as dt
import re

from satellite.answers.numbers import restore
from satellite.answers.words import Words


def date_answer(query: str, original: str, today: dt.date, words: Words, language: str
                ) -> str | None:
    for pattern in words.in_days:
        if (match := re.match(pattern, query)) is not None:
            n, unit = int(match["n"]), match["unit"]
            day = today + dt.timedelta(days=n * words.day_units[unit])
            return words.say_in_days.format(n=n, unit=restore(unit, original),
                                            date=say_date(day, words, language))
    for pattern in words.days_ago:
        if (match := re.match(pattern, query)) is not None:
            n, unit = int(match["n"]), match["unit"]
            day = today - dt.timedelta(days=n * words.day_units[unit])
            return words.say_days_ago.format(n=n, unit=restore(unit, original),
                                             date=say_date(day, words, language))
    for pattern in words.until:
        if (match := re.match(pattern, query)) is not None:
            target = _named_day(match["what"], today, words)
            if target is None:
                return None
            what = restore(match["what"], original)
            what = what[0].upper() + what[1:]
            days = (target - today).days
            if days == 0:
                return words.say_until_today.format(what=what)
            return words.say_until.format(what=what, n=days, date=say_date(target, words, language))
    for pattern in words.next_weekday:
        if (match := re.match(pattern, query)) is not None and match["day"] in words.weekdays:
            weekday = words.weekdays.index(match["day"])
            ahead = (weekday - today.weekday()) % 7 or 7
            day = today + dt.timedelta(days=ahead)
            name = _display(match["day"], language)
            return words.say_next.format(day=name.capitalize() if language == "en" else name,
                                         date=say_date(day, words, language, weekday=False))
    return None


def say_date(day: dt.date, words: Words, language: str, weekday: bool = True) -> str:
    name = _display(words.weekdays[day.weekday()], language)
    month = words.months[day.month - 1]
    if language == "es":
        date = f"{day.day} de {month} de {day.year}"
        return f"{name}, {date}" if weekday else date
    date = f"{month.capitalize()} {day.day}, {day.year}"
    return f"{name.capitalize()}, {date}" if weekday else date


def _display(weekday: str, language: str) -> str:
    return {"miercoles": "miércoles", "sabado": "sábado"}.get(weekday, weekday) if language == "es" \
        else weekday


def _named_day(what: str, today: dt.date, words: Words) -> dt.date | None:
    """The next date a holiday or "<month> <day>" / "<day> de <month>" names, today included."""
    what = re.sub(r"^(?:the |el |la )", "", what.strip())
    month_day = words.holidays.get(what)
    if month_day is None:
        month_day = _month_day(what, words)
    if month_day is None:
        return None
    month, day = month_day
    for year in (today.year, today.year + 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate
    return None


def _month_day(text: str, words: Words) -> tuple[int, int] | None:
    months = "|".join(words.months)
    match = (re.fullmatch(rf"(?P<month>{months}) (?P<day>\d{{1,2}})(?:st|nd|rd|th)?", text)
             or re.fullmatch(rf"(?:the )?(?P<day>\d{{1,2}})(?:st|nd|rd|th)? (?:de |of )?(?P<month>{months})",
                             text))
    if match is None:
        return None
    return words.months.index(match["month"]) + 1, int(match["day"])
