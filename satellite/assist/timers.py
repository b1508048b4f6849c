"""Home Assistant's timer events for this satellite → the box's own timers (same ring, same /status).

Home Assistant (2024.6 and later) runs the timers a satellite's user sets and
tells the satellite: ``timer-started``, ``timer-updated`` (paused, resumed,
time changed), ``timer-cancelled``, ``timer-finished``. The box mirrors each in
its ``TimerService`` (ids prefixed ``ha-``): the timer shows on /status, and
when HA says it finished it rings in the room like the box's own, until "stop".
"""

from __future__ import annotations

import logging

from wyoming.event import Event
from wyoming.timer import TimerCancelled, TimerFinished, TimerStarted, TimerUpdated

from satellite.runtime.metrics import Metrics
from satellite.timers import TimerService

_LOGGER = logging.getLogger(__name__)
TIMER_TYPES = ("timer-started", "timer-updated", "timer-cancelled", "timer-finished")


def is_timer_event(event_type: str) -> bool:
    return event_type in TIMER_TYPES


class TimerMirror:
    def __init__(self, timers: TimerService | None, metrics: Metrics, area: str | None = None):
        self.timers = timers
        self.metrics = metrics
        self.area = area

    def handle(self, event: Event) -> None:
        """One timer event (its fields checked by the caller's parse); unknown ids are logged."""
        self.metrics.assist_timer_events.labels(type=event.type).inc()
        if self.timers is None:
            _LOGGER.info("assist satellite: %s from Home Assistant, but timers are off here "
                         "(timers.enabled: false)", event.type)
            return
        if TimerStarted.is_type(event.type):
            started = TimerStarted.from_event(event)
            timer = self.timers.add_external(str(started.id), float(started.total_seconds),
                                             started.name, self.area)
            _LOGGER.info("assist satellite: Home Assistant started timer %s (%s s)", timer.id,
                         started.total_seconds)
        elif TimerUpdated.is_type(event.type):
            updated = TimerUpdated.from_event(event)
            if self.timers.update_external(str(updated.id), float(updated.total_seconds),
                                           bool(updated.is_active)) is None:
                _LOGGER.info("assist satellite: update for unknown timer %s ignored", updated.id)
        elif TimerCancelled.is_type(event.type):
            self._end(str(TimerCancelled.from_event(event).id), finished=False)
        elif TimerFinished.is_type(event.type):
            self._end(str(TimerFinished.from_event(event).id), finished=True)

    def _end(self, external_id: str, *, finished: bool) -> None:
        if not self.timers or not self.timers.end_external(external_id, finished=finished):
            _LOGGER.info("assist satellite: %s for unknown timer %s ignored",
                         "finish" if finished else "cancel", external_id)
