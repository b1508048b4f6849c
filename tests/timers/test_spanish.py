"""Timers in Spanish: home-assistant-intents' Spanish timer sentences, answered in Spanish."""

from __future__ import annotations

import asyncio

import pytest

from satellite.config.schema import TimersConfig
from satellite.intents import IntentRecognizer
from satellite.timers import TimerService, answers_es
from satellite.timers.answers import answers_for
from satellite.timers.model import TimerQuery, TimerState, new_timer
from tests.timers.clock import ManualClock

NOW_S = 1_700_000_000.0


@pytest.fixture(scope="module")
def recognizer() -> IntentRecognizer:
    return IntentRecognizer("es", ["cocina"], ["luces de la cocina"])


async def say(service: TimerService, recognizer: IntentRecognizer, text: str) -> str:
    match = recognizer.recognize(text)
    assert match is not None and service.handles(match.name), (text, match)
    return await asyncio.wait_for(service.handle(match, "cocina"), 10.0)


async def test_a_spanish_timer_is_set_asked_about_and_cancelled_in_spanish(
        recognizer: IntentRecognizer) -> None:
    clock = ManualClock(NOW_S)
    service = TimerService(TimersConfig(), clock=clock, language="es")
    rang: list[str] = []
    service.on_ring = lambda timer: rang.append(service.answers.rang(timer))

    assert await say(service, recognizer, "pon un temporizador de cinco minutos") == \
        "Temporizador puesto para 5 minutos."
    clock.advance(70)
    assert await say(service, recognizer, "cuánto le queda al temporizador de cinco minutos") == \
        "A tu temporizador le quedan 3 minutos y 50 segundos."
    assert await say(service, recognizer, "pon un temporizador de 10 minutos") == \
        "Temporizador puesto para 10 minutos."
    assert await say(service, recognizer, "cancela el temporizador") == (
        "Tienes dos temporizadores. ¿Cuál quieres decir: el temporizador de 5 minutos o "
        "el temporizador de 10 minutos?")
    clock.advance(300)
    assert rang == ["Tu temporizador ha terminado."]
    await asyncio.wait_for(service.close(), 10.0)


def test_answers_for_picks_the_language() -> None:
    assert answers_for("es") is answers_es
    assert answers_for("es").NO_TIMER == "No hay ningún temporizador en marcha."
    assert answers_for("en").NO_TIMER == "There is no timer running."
    assert answers_for("de").NO_TIMER == "There is no timer running."


@pytest.mark.parametrize(
    ("seconds", "precise", "spoken"),
    [(1, False, "1 segundo"), (250, False, "4 minutos y 10 segundos"), (3600, True, "1 hora"),
     (4860, False, "1 hora y 21 minutos"), (90061, False, "1 día y 1 hora"), (0.3, False, "1 segundo")],
)
def test_spanish_durations(seconds: float, precise: bool, spoken: str) -> None:
    assert answers_es.say_duration(seconds, precise=precise) == spoken


def test_spanish_answers_read_as_spanish() -> None:
    pasta = new_timer("a", 600, NOW_S, name="pasta")
    plain = new_timer("b", 300, NOW_S)
    assert answers_es.started(pasta) == "Temporizador de pasta puesto para 10 minutos."
    assert answers_es.status([pasta], NOW_S + 60, alone=False) == \
        "A tu temporizador de pasta le quedan 9 minutos."
    assert answers_es.status([pasta, plain], NOW_S) == (
        "Tienes dos temporizadores: al temporizador de pasta le quedan 10 minutos y "
        "al temporizador de 5 minutos le quedan 5 minutos.")
    assert answers_es.paused(pasta, NOW_S) == "He pausado el temporizador de pasta; le quedan 10 minutos."
    assert answers_es.cancelled([pasta]) == "He cancelado el temporizador de pasta."
    assert answers_es.changed(plain, 120, NOW_S, added=True) == \
        "He añadido 2 minutos: al temporizador de 5 minutos le quedan 5 minutos."
    assert answers_es.duplicate(pasta, NOW_S) == "Ya tienes un temporizador de pasta; le quedan 10 minutos."
    assert answers_es.already(pasta.with_state(TimerState.PAUSED)) == \
        "El temporizador de pasta ya está en pausa."
    assert answers_es.not_found(TimerQuery(name="huevos")) == "No hay ningún temporizador de huevos."
    assert answers_es.too_many(3) == "Ya tienes tres temporizadores. Cancela uno primero."
    assert answers_es.rang(pasta) == "Tu temporizador de pasta ha terminado."
