"""Exact answers, computed: tables of question → reply in English and Spanish, with their edge
cases, and the questions that are not theirs (None: they go on to intents and the LLM)."""

from __future__ import annotations

import datetime as dt

import pytest

from satellite.answers import exact_answer
from satellite.pipeline.local_answers import local_answer

TODAY = dt.date(2026, 12, 3)  # a Thursday


@pytest.mark.parametrize(("question", "reply"), [
    ("What is 19 plus 23?", "19 plus 23 is 42."),
    ("what is nineteen plus twenty three", "19 plus 23 is 42."),
    ("What is 3 plus 4 times 2?", "3 plus 4 times 2 is 11."),  # precedence
    ("what is three plus four times two", "3 plus 4 times 2 is 11."),
    ("What is 7 minus 12?", "7 minus 12 is -5."),
    ("What's 15% of 80?", "15 percent of 80 is 12."),
    ("what is fifteen percent of eighty", "15 percent of 80 is 12."),
    ("What is 2 to the power of 10?", "2 to the power of 10 is 1024."),
    ("What is nine squared?", "9 squared is 81."),
    ("what is 3 cubed", "3 cubed is 27."),
    ("What is the square root of 16?", "The square root of 16 is 4."),
    ("What is the square root of 8?", "The square root of 8 is about 2.8284."),
    ("What is 10 divided by 4?", "10 divided by 4 is 2.5."),
    ("What is 10 divided by 3?", "10 divided by 3 is about 3.3333."),
    ("What is 0.1 plus 0.2?", "0.1 plus 0.2 is 0.3."),
    ("What is 2.5 times 4?", "2.5 times 4 is 10."),
    ("What is 1,000 times 3?", "1000 times 3 is 3000."),
    ("What is 10 divided by 0?", "You can't divide by zero."),
    ("What is 10 to the power of 999?", "That number is too big for me to say."),
    ("What is the square root of minus 4?", "A negative number has no real square root."),
    ("What is two thousand and twenty six divided by two?", "2026 divided by 2 is 1013."),
])
def test_english_arithmetic(question: str, reply: str) -> None:
    assert exact_answer(question, TODAY, "en") == reply


@pytest.mark.parametrize(("question", "reply"), [
    ("¿Cuánto es diecinueve más veintitrés?", "19 más 23 es 42."),
    ("¿Cuánto es 3 más 4 por 2?", "3 más 4 por 2 es 11."),
    ("¿Cuánto es quince por ciento de ochenta?", "15 por ciento de 80 es 12."),
    ("¿Cuánto es el veinticinco por ciento de doscientos?", "25 por ciento de 200 es 50."),
    ("¿Cuánto es dos coma cinco por cuatro?", "2,5 por 4 es 10."),
    ("¿Cuánto es 10 entre 4?", "10 entre 4 es 2,5."),
    ("¿Cuánto es la raíz cuadrada de nueve?", "La raíz cuadrada de 9 es 3."),
    ("¿Cuánto es 5 menos 8?", "5 menos 8 es -3."),
    ("¿Cuánto es 7 dividido entre 0?", "No se puede dividir entre cero."),
    ("¿Cuánto es 2 elevado a 8?", "2 elevado a 8 es 256."),
])
def test_spanish_arithmetic(question: str, reply: str) -> None:
    assert exact_answer(question, TODAY, "es") == reply


@pytest.mark.parametrize(("question", "language", "reply"), [
    ("Convert 10 miles to kilometers.", "en", "10 miles is about 16.09 kilometers."),
    ("How many feet are in a meter?", "en", "1 meter is about 3.28 feet."),
    ("What is 100 degrees Fahrenheit in Celsius?", "en", "100 degrees Fahrenheit is about 37.78 Celsius."),
    ("What is 0 celsius in fahrenheit?", "en", "0 celsius is 32 fahrenheit."),  # an offset, not a ratio
    ("Convert 2 pounds to kilograms", "en", "2 pounds is about 0.91 kilograms."),
    ("How many milliliters in a cup?", "en", "1 cup is about 236.59 milliliters."),
    ("Convert 90 minutes to hours", "en", "90 minutes is 1.5 hours."),
    ("Convert 100 kilometers per hour to miles per hour", "en",
     "100 kilometers per hour is about 62.14 miles per hour."),
    ("Convert 10 blorps to meters", "en", "I don't know the unit blorps."),
    ("Convert 10 miles to kilograms", "en",
     "I can't convert miles to kilograms: they measure different things."),
    ("Convierte diez millas a kilómetros.", "es", "10 millas son unos 16,09 kilómetros."),
    ("¿Cuántos gramos hay en una libra?", "es", "1 libra son unos 453,59 gramos."),
    ("Convierte 3 litros a metros", "es", "No puedo convertir litros en metros: miden cosas distintas."),
])
def test_unit_conversions(question: str, language: str, reply: str) -> None:
    assert exact_answer(question, TODAY, language) == reply


@pytest.mark.parametrize(("question", "language", "reply"), [
    ("How do you spell Wednesday?", "en", "Wednesday is spelled W, E, D, N, E, S, D, A, Y."),
    ("spell four", "en", "Four is spelled F, O, U, R."),  # a number word is a word here
    ("How many letters are in Wednesday?", "en", "Wednesday has 9 letters."),
    ("Count to five", "en", "1, 2, 3, 4, 5."),
    ("count from 10 to 7", "en", "10, 9, 8, 7."),
    ("count to a thousand", "en", "That's too many numbers to count out loud."),
    ("¿Cómo se escribe miércoles?", "es", "Miércoles se escribe M, I, E con tilde, R, C, O, L, E, S."),
    ("Deletrea niño", "es", "Niño se escribe N, I, Eñe, O."),
    ("Cuenta hasta tres", "es", "1, 2, 3."),
])
def test_spelling_and_counting(question: str, language: str, reply: str) -> None:
    assert exact_answer(question, TODAY, language) == reply


@pytest.mark.parametrize(("question", "language", "reply"), [
    ("What day is it in ten days?", "en", "In 10 days it will be Sunday, December 13, 2026."),
    ("What day will it be in 2 weeks?", "en", "In 2 weeks it will be Thursday, December 17, 2026."),
    ("What day was it 3 days ago?", "en", "3 days ago it was Monday, November 30, 2026."),
    ("How many days until Christmas?", "en", "Christmas is in 22 days, on Friday, December 25, 2026."),
    ("How many days until New Year's Day?", "en",
     "New Year's Day is in 29 days, on Friday, January 1, 2027."),  # next year's
    ("How many days until March 3rd?", "en", "March 3rd is in 90 days, on Wednesday, March 3, 2027."),
    ("What's the date next Friday?", "en", "The coming Friday is December 4, 2026."),
    ("What's the date next Thursday?", "en", "The coming Thursday is December 10, 2026."),  # not today
    ("¿Qué día será dentro de diez días?", "es", "Dentro de 10 días será domingo, 13 de diciembre de 2026."),
    ("¿Cuántos días faltan para Navidad?", "es",
     "Faltan 22 días para Navidad: el viernes, 25 de diciembre de 2026."),
    ("¿Qué fecha es el próximo miércoles?", "es", "El próximo miércoles es el 9 de diciembre de 2026."),
])
def test_date_arithmetic(question: str, language: str, reply: str) -> None:
    assert exact_answer(question, TODAY, language) == reply


@pytest.mark.parametrize(("question", "language"), [
    ("What is the capital of France?", "en"), ("What time is it?", "en"), ("what is 5", "en"),
    ("Set a timer for five minutes", "en"), ("Turn on the kitchen lights and the bedroom lamp", "en"),
    ("what is 5 apples in a basket", "en"), ("Tell me a joke", "en"), ("what is love", "en"),
    ("How many days until my birthday?", "en"), ("¿Cuál es la capital de Francia?", "es"),
    ("¿Qué es el amor?", "es"), ("Pon un temporizador de cinco minutos", "es"),
    ("What is 19 plus 23?", "de"),  # a language without exact answers: the LLM's
])
def test_what_is_not_computable_is_left_alone(question: str, language: str) -> None:
    assert exact_answer(question, TODAY, language) is None


def test_the_clock_path_answers_them_and_date_arithmetic_is_not_todays_date() -> None:
    now = dt.datetime(2026, 12, 3, 18, 30)
    assert local_answer("What day is it in ten days?", lambda: now) == \
        "In 10 days it will be Sunday, December 13, 2026."
    assert local_answer("What day is it today?", lambda: now) == "Today is Thursday, December 3, 2026."
    assert local_answer("What is 19 plus 23?", lambda: now) == "19 plus 23 is 42."


@pytest.mark.parametrize(("said", "language", "reply"), [
    ("Thanks a lot.", "en", "You're welcome."), ("Thank you!", "en", "You're welcome."),
    ("Good night.", "en", "Good night!"), ("Hello", "en", "Hello! What can I do for you?"),
    ("Muchas gracias.", "es", "De nada."), ("Buenas noches.", "es", "¡Buenas noches!"),
    ("Hola", "es", "¡Hola! ¿En qué te ayudo?"),
])
def test_what_asks_nothing_gets_a_short_fitting_reply(said: str, language: str, reply: str) -> None:
    assert exact_answer(said, TODAY, language) == reply


@pytest.mark.parametrize("said", ["Thanks for turning on the lights", "hi how are you",
                                  "hello can you set a timer"])
def test_only_the_whole_utterance_is_a_greeting_or_thanks(said: str) -> None:
    assert exact_answer(said, TODAY, "en") is None
