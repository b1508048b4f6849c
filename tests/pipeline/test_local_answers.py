from __future__ import annotations

import datetime as dt

import pytest

from satellite.pipeline.local_answers import is_time_sensitive, local_answer

NOW = dt.datetime(2026, 3, 3, 19, 5)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What time is it?", "It's 7:05 PM."),
        ("what's the time", "It's 7:05 PM."),
        ("What is the date today?", "Today is Tuesday, March 3, 2026."),
        ("what day is it", "Today is Tuesday, March 3, 2026."),
        ("what year is it", "It's 2026."),
        ("What's the weather like?", "I'm offline, so I can't check that for you."),
        ("who wrote pride and prejudice", None),
    ],
)
def test_clock_questions_are_answered_locally(question: str, answer: str | None) -> None:
    assert local_answer(question, now=lambda: NOW) == answer


@pytest.mark.parametrize(
    ("question", "sensitive"),
    [
        ("what time is it", True),
        ("what is on my calendar for friday", True),
        ("will it rain tomorrow", True),
        ("what's the weather", True),
        ("who wrote pride and prejudice", False),
        ("tell me a joke", False),
        ("what is the square root of one hundred forty four", False),
    ],
)
def test_time_sensitive_questions(question: str, sensitive: bool) -> None:
    assert is_time_sensitive(question) is sensitive


@pytest.mark.parametrize(
    ("question", "now", "answer"),
    [
        ("¿Qué hora es?", NOW, "Son las 7 y 5 de la tarde."),
        ("Dime la hora.", dt.datetime(2026, 3, 3, 1, 30), "Es la una y media de la madrugada."),
        ("¿me puedes decir la hora?", dt.datetime(2026, 3, 3, 12, 0), "Son las 12 en punto del mediodía."),
        ("qué horas son", dt.datetime(2026, 3, 3, 9, 15), "Son las 9 y cuarto de la mañana."),
        ("¿Qué hora es?", dt.datetime(2026, 3, 3, 22, 40), "Son las 10 y 40 de la noche."),
        ("¿Qué día es hoy?", NOW, "Hoy es martes, 3 de marzo de 2026."),
        ("Dime la fecha", dt.datetime(2026, 9, 19, 8, 0), "Hoy es sábado, 19 de septiembre de 2026."),
        ("¿En qué año estamos?", NOW, "Estamos en 2026."),
        ("¿Qué tiempo hace?", NOW, "No tengo conexión a internet, así que no puedo consultarlo."),
        ("¿Quién escribió el Quijote?", NOW, None),
    ],
)
def test_spanish_clock_questions_are_answered_in_spanish(question: str, now: dt.datetime,
                                                         answer: str | None) -> None:
    assert local_answer(question, now=lambda: now, language="es") == answer


def test_a_spanish_question_gets_no_english_answer_and_vice_versa() -> None:
    assert local_answer("What time is it?", now=lambda: NOW, language="es") is None
    assert local_answer("¿Qué hora es?", now=lambda: NOW, language="en") is None
    assert local_answer("Quelle heure est-il ?", now=lambda: NOW, language="fr") is None


@pytest.mark.parametrize(
    ("question", "sensitive"),
    [("¿Lloverá mañana?", True), ("¿Qué hay en mi agenda?", True), ("¿Qué hora es?", True),
     ("Cuéntame un chiste", False), ("¿Quién escribió el Quijote?", False)],
)
def test_spanish_time_sensitive_questions(question: str, sensitive: bool) -> None:
    assert is_time_sensitive(question) is sensitive
