"""What the box says about timers in Spanish (``language: es``): the same functions as ``answers``.

Numbers of minutes and seconds are digits ("4 minutos y 10 segundos"), as in
English: Piper's Spanish voices read them. A timer is "el temporizador de
pasta" or, unnamed, "el temporizador de 10 minutos".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from satellite.timers.model import Timer, TimerQuery, TimerState

NO_TIMER = "No hay ningún temporizador en marcha."
NO_DURATION = "No he entendido cuánto tiempo debe durar el temporizador."
LATER_COMMAND = "Todavía no puedo hacer cosas más tarde; solo puedo poner temporizadores."
TOO_SHORT = "Un temporizador necesita al menos un segundo."

_COUNT_WORDS = ("ningún", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez")
_STATES = {TimerState.RUNNING: "en marcha", TimerState.PAUSED: "en pausa", TimerState.RINGING: "sonando"}
_UNITS = {"day": ("día", "días"), "hour": ("hora", "horas"), "minute": ("minuto", "minutos"),
          "second": ("segundo", "segundos")}


def count_words(count: int) -> str:
    return _COUNT_WORDS[count] if 0 <= count < len(_COUNT_WORDS) else str(count)


def _unit(value: int, unit: str) -> str:
    one, many = _UNITS[unit]
    return f"{value} {one if value == 1 else many}"


def join_words(items: Sequence[str], last: str = "y") -> str:
    """'a', 'a y b', 'a, b y c'."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def say_duration(seconds: float, *, precise: bool = False) -> str:
    """'4 minutos y 10 segundos', '1 hora y 20 minutos'; rounded as ``answers.say_duration``."""
    total = max(0, math.ceil(seconds - 1e-6))
    if total >= 86400 and not precise:
        days, rest = divmod(total, 86400)
        hours = round(rest / 3600)
        return join_words([_unit(days, "day")] + ([_unit(hours, "hour")] if hours else []))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours and not precise:
        minutes = round(rest / 60)
        if minutes == 60:
            hours, minutes = hours + 1, 0
        secs = 0
    parts = [_unit(v, u) for v, u in ((hours, "hour"), (minutes, "minute"), (secs, "second")) if v]
    return join_words(parts) if parts else "0 segundos"


def label(timer: Timer) -> str:
    """'temporizador de pasta', 'temporizador de 10 minutos'."""
    return f"temporizador de {timer.name or say_duration(timer.duration_s, precise=True)}"


def _the(timer: Timer) -> str:
    return f"el {label(timer)}"


def _your(timer: Timer, alone: bool) -> str:
    return "tu temporizador" if alone and not timer.name else f"tu {label(timer)}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _state_sentence(subject: str, timer: Timer, now_s: float) -> str:
    """'al temporizador de pasta le quedan 4 minutos', 'tu temporizador está en pausa; le quedan…'."""
    if timer.state is TimerState.RINGING:
        return f"{subject} ha terminado"
    left = say_duration(timer.remaining(now_s))
    if timer.state is TimerState.PAUSED:
        return f"{subject} está en pausa; le quedan {left}"
    to_subject = "al " + subject[3:] if subject.startswith("el ") else f"a {subject}"
    return f"{to_subject} le quedan {left}"


def started(timer: Timer) -> str:
    what = f"Temporizador de {timer.name}" if timer.name else "Temporizador"
    return f"{what} puesto para {say_duration(timer.duration_s, precise=True)}."


def status(timers: Sequence[Timer], now_s: float, *, alone: bool = True) -> str:
    if not timers:
        return NO_TIMER
    if len(timers) == 1:
        return _cap(f"{_state_sentence(_your(timers[0], alone), timers[0], now_s)}.")
    items = [_state_sentence(_the(t), t, now_s) for t in timers]
    return f"Tienes {count_words(len(timers))} temporizadores: {join_words(items)}."


def not_found(query: TimerQuery) -> str:
    if query.name:
        return f"No hay ningún temporizador de {query.name}."
    if query.duration_s is not None:
        return f"No hay ningún temporizador de {say_duration(query.duration_s, precise=True)}."
    if query.area:
        return f"No hay ningún temporizador en {query.area}."
    return NO_TIMER


def which_one(candidates: Sequence[Timer]) -> str:
    names = [_the(t) for t in candidates]
    return (f"Tienes {count_words(len(candidates))} temporizadores. "
            f"¿Cuál quieres decir: {join_words(names, 'o')}?")


def cancelled(timers: Sequence[Timer]) -> str:
    if len(timers) == 1:
        verb = "He parado" if timers[0].state is TimerState.RINGING else "He cancelado"
        return f"{verb} {_the(timers[0])}."
    if len(timers) == 2:
        return "He cancelado los dos temporizadores."
    return f"He cancelado los {count_words(len(timers))} temporizadores."


def paused(timer: Timer, now_s: float) -> str:
    return f"He pausado {_the(timer)}; le quedan {say_duration(timer.remaining(now_s))}."


def already(timer: Timer) -> str:
    return _cap(f"{_the(timer)} ya está {_STATES.get(timer.state, timer.state.value)}.")


def already_all(state: TimerState) -> str:
    return f"Tus temporizadores ya están {_STATES.get(state, state.value)}."


def resumed(timer: Timer, now_s: float) -> str:
    return f"He reanudado {_the(timer)}: le quedan {say_duration(timer.remaining(now_s))}."


def changed(timer: Timer, amount_s: float, now_s: float, *, added: bool) -> str:
    amount = say_duration(amount_s, precise=True)
    head = f"He añadido {amount}" if added else f"He quitado {amount}"
    return f"{head}: {_state_sentence(_the(timer), timer, now_s)}."


def rang(timer: Timer) -> str:
    return f"Tu {label(timer) if timer.name else 'temporizador'} ha terminado."


def missed(timers: Sequence[Timer], now_s: float) -> str:
    if not timers:
        return ""

    def ago(timer: Timer) -> str:
        ended = timer.ends_at_s if timer.ends_at_s is not None else now_s
        return f"hace {say_duration(max(1.0, now_s - ended))}"

    if len(timers) == 1:
        return f"Mientras estaba apagado, tu {label(timers[0])} sonó {ago(timers[0])}."
    items = [f"el {label(t)} {ago(t)}" for t in timers]
    return (f"Mientras estaba apagado, sonaron {count_words(len(timers))} temporizadores: "
            f"{join_words(items)}.")


def too_long(max_duration_s: float) -> str:
    return f"Solo puedo poner temporizadores de hasta {say_duration(max_duration_s, precise=True)}."


def too_many(max_timers: int) -> str:
    return f"Ya tienes {count_words(max_timers)} temporizadores. Cancela uno primero."


def duplicate(timer: Timer, now_s: float) -> str:
    """'Ya tienes un temporizador de huevos; le quedan 3 minutos.'"""
    if timer.state is TimerState.RINGING:
        clause = "está sonando"
    elif timer.state is TimerState.PAUSED:
        clause = f"está en pausa y le quedan {say_duration(timer.remaining(now_s))}"
    else:
        clause = f"le quedan {say_duration(timer.remaining(now_s))}"
    return f"Ya tienes un {label(timer)}; {clause}."
