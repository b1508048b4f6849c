"""Timers that really run on the box: set, ask, add, pause, cancel, ring, and survive a restart.

The integrator's view:

    service = TimerService(config.timers, TimerStore(conn), db=turn_service.db, metrics=metrics)
    missed = await service.start()            # ran out while down: say answers.missed(missed, now)
    service.on_ring = room_rings              # called on the loop when a timer runs out
    match = service.match(text) or recognizer.recognize(text)
    if match and service.handles(match.name):
        say(await service.handle(match, area))  # "" = say nothing ("stop" silenced the ring)

The ring is made here (``ring.py``); the awake and done chimes beside it, in
``satellite.audio.chimes`` (re-exported here).
"""

from satellite.audio.chimes import awake_pcm, done_pcm
from satellite.timers import answers, answers_es
from satellite.timers.clock import LoopClock, TimerClock
from satellite.timers.matcher import STOP_RINGING, TimerPhraseMatcher
from satellite.timers.model import Timer, TimerQuery, TimerState, choose, duration_from_slots
from satellite.timers.ring import RingSchedule, ring_pcm, ring_until_stopped
from satellite.timers.service import TIMER_INTENTS, TimerService
from satellite.timers.store import TimerStore

__all__ = [
    "STOP_RINGING",
    "TIMER_INTENTS",
    "LoopClock",
    "RingSchedule",
    "Timer",
    "TimerClock",
    "TimerPhraseMatcher",
    "TimerQuery",
    "TimerService",
    "TimerState",
    "TimerStore",
    "answers",
    "answers_es",
    "awake_pcm",
    "choose",
    "done_pcm",
    "duration_from_slots",
    "ring_pcm",
    "ring_until_stopped",
]
