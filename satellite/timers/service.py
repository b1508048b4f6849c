"""``TimerService``: the timers of this box, really running on the event loop and kept in SQLite.

Every change is written to the state database (on its own thread, in the order
the changes happened) before ``handle`` answers, so a timer the room was told
about survives ``kill -9``. On ``start`` the timers are read back: those still
to run are scheduled again with what they have left, and those that ran out
while the process was down are returned ("missed") for the room to announce.

The service decides and keeps state; it plays nothing. When a timer runs out it
turns ``ringing`` and ``on_ring(timer)`` is called; the room rings (see
``ring.py``) while ``ringing`` still lists it. It stops ringing on "stop"
(``stop_ringing``), on a command that ends it, or after ``timers.max_ring_s``.

All methods run on the event loop (the clock calls back there too).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from satellite.config.schema import TimersConfig
from satellite.intents.recognizer import IntentMatch
from satellite.intents.stop_words import is_stop
from satellite.runtime.metrics import Metrics
from satellite.timers import answers
from satellite.timers.clock import Cancellable, LoopClock, TimerClock
from satellite.timers.matcher import STOP_RINGING, TimerPhraseMatcher
from satellite.timers.model import (
    Choice,
    Timer,
    TimerQuery,
    TimerState,
    by_end,
    choose,
    clean_name,
    duration_from_slots,
    label,
    new_timer,
)

if TYPE_CHECKING:
    from satellite.timers.store import TimerStore

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

TIMER_INTENTS = frozenset({
    "HassStartTimer", "HassCancelTimer", "HassCancelAllTimers", "HassIncreaseTimer",
    "HassDecreaseTimer", "HassPauseTimer", "HassUnpauseTimer", "HassTimerStatus", STOP_RINGING,
})
EXTERNAL_PREFIX = "ha-"  # timers Home Assistant runs and the box mirrors (ids from its timer events)
EXTERNAL_GRACE_S = 3.0  # a mirrored timer rings on its own this long after its end, if HA stays silent
WRITE_WAIT_S = 15.0  # the state database's own bound is 10 s per call
KEEP_ENDED_S = 7 * 86400.0  # finished and cancelled rows are deleted after this


class DbWorker(Protocol):
    """What the service needs of ``satellite.pipeline.store.StateDbWorker``."""

    async def call(self, fn: Callable[..., T], *args: Any, default: T) -> T: ...


class TimerService:
    def __init__(self, config: TimersConfig, store: TimerStore | None = None, *,
                 db: DbWorker | None = None, clock: TimerClock | None = None,
                 metrics: Metrics | None = None, language: str = "en",
                 new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:12]):
        """``store``: None = timers live in memory only (no state database).

        ``db``: the state database's worker thread, shared with the turn service
        (``turn_service.db``); when None with a store, the service makes its own.
        ``clock``: None = ``LoopClock`` (wall clock + the running loop), made on first use.
        """
        self.config = config
        self.on_ring: Callable[[Timer], None] | None = None
        self._store = store
        self._own_db = None
        if store is not None and db is None:
            from satellite.pipeline.store import StateDbWorker  # here: satellite.pipeline imports us

            self._own_db = StateDbWorker()
            db = self._own_db
        self._db = db
        self._clock = clock
        self.metrics = metrics if metrics is not None else Metrics()
        self._new_id = new_id
        self._matcher = TimerPhraseMatcher(language)
        self._language = language
        self.answers = answers.answers_for(language)  # what is said, in the box's language
        self._timers: dict[str, Timer] = {}  # live ones: running, paused, ringing
        self._alarms: dict[str, Cancellable] = {}
        self._writes: set[asyncio.Task[bool]] = set()
        self._update_gauge()

    # -- the API the room and the turn service call ----------------------------------------------

    @property
    def clock(self) -> TimerClock:
        if self._clock is None:
            self._clock = LoopClock()
        return self._clock

    def now(self) -> float:
        return self.clock.now()

    async def start(self) -> list[Timer]:
        """Restore the stored timers; return those that ran out while the process was down."""
        if self._store is None:
            return []
        stored: list[Timer] = await self._db_call(self._store.load_live, default=[])
        now = self.now()
        missed: list[Timer] = []
        for timer in stored:
            if timer.state is TimerState.RUNNING and timer.ends_at_s is not None \
                    and timer.ends_at_s <= now:
                missed.append(timer.with_state(TimerState.FINISHED))
                self._write(missed[-1])
                self.metrics.timers_finished.labels(missed="true").inc()
            elif timer.state is TimerState.RINGING:  # it rang when the process stopped
                self._write(timer.with_state(TimerState.FINISHED))
            else:
                self._set(timer)
        await self._flush()
        await self._db_call(self._store.prune, now - KEEP_ENDED_S, default=0)
        _LOGGER.info("timers restored: %d live, %d ran out while down", len(self._timers),
                     len(missed))
        return missed

    def handles(self, intent_name: str) -> bool:
        return self.config.enabled and intent_name in TIMER_INTENTS

    def match(self, text: str) -> IntentMatch | None:
        """The box's own timer phrases ("stop" while ringing, "add two minutes", "how much time is
        left"); ask this before the general recognizer. Pure and fast (a few ms)."""
        if not self.config.enabled:
            return None
        if self.ringing and is_stop(text, self._language):  # in every language with stop words
            return IntentMatch(STOP_RINGING, {}, text.strip(), None)
        return self._matcher.match(text, ringing=bool(self.ringing))

    async def handle(self, match: IntentMatch, area: str | None = None) -> str:
        """Do what ``match`` asks, for real, and return what to say.

        ``area``: the room the command came from; stored on a new timer. An empty
        answer means "say nothing" (a "stop" that silenced the ring).
        """
        slots = dict(match.entities)
        intent = match.name
        if intent == STOP_RINGING:
            answer = ""
            self.stop_ringing()
        elif intent == "HassStartTimer":
            answer = self._start_timer(slots, area)
        elif intent in ("HassCancelTimer", "HassCancelAllTimers"):
            answer = self._cancel(TimerQuery.from_slots(slots, all_timers=intent == "HassCancelAllTimers"))
        elif intent == "HassPauseTimer":
            answer = self._pause_or_resume(TimerQuery.from_slots(slots), pause=True)
        elif intent == "HassUnpauseTimer":
            answer = self._pause_or_resume(TimerQuery.from_slots(slots), pause=False)
        elif intent in ("HassIncreaseTimer", "HassDecreaseTimer"):
            answer = self._change(slots, added=intent == "HassIncreaseTimer")
        elif intent == "HassTimerStatus":
            answer = self._status(TimerQuery.from_slots(slots))
        else:
            raise ValueError(f"not a timer intent: {intent}")
        await self._flush()
        _LOGGER.info("timer command %s %s → %r", intent, slots, answer)
        return answer

    @property
    def ringing(self) -> list[Timer]:
        return [t for t in self._timers.values() if t.state is TimerState.RINGING]

    @property
    def timers(self) -> list[Timer]:
        """The live timers: ringing first, then by what they have left."""
        return by_end(list(self._timers.values()), self.now())

    def stop_ringing(self) -> bool:
        """What "stop" does: every ringing timer is finished. True if one was ringing."""
        ringing = self.ringing
        for timer in ringing:
            self._set(timer.with_state(TimerState.FINISHED))
        return bool(ringing)

    # -- timers Home Assistant runs (satellite role): mirrored here, ring in the room -------------

    def add_external(self, external_id: str, duration_s: float, name: str | None = None,
                     area: str | None = None) -> Timer:
        """A timer Home Assistant started for this satellite: shown and rung like the box's own.

        It rings when Home Assistant says it finished (``finish_external``), or on its own
        ``EXTERNAL_GRACE_S`` after its end if that word never comes (HA went away).
        """
        timer_id = EXTERNAL_PREFIX + external_id
        existing = self._timers.get(timer_id)
        now = self.now()
        if existing is not None:
            timer = existing.running(now, duration_s)
        else:
            timer = new_timer(timer_id, max(0.0, duration_s), now, name=name, area=area)
            self.metrics.timers_started.inc()
        self._set(timer)
        return timer

    def update_external(self, external_id: str, remaining_s: float, active: bool) -> Timer | None:
        """Home Assistant paused, resumed or changed its timer; None if the box does not know it."""
        timer = self._timers.get(EXTERNAL_PREFIX + external_id)
        if timer is None or timer.state is TimerState.RINGING:
            return None
        now = self.now()
        changed = timer.running(now, max(0.0, remaining_s))
        self._set(changed.paused(now) if not active else changed)
        return self._timers.get(changed.id)

    def end_external(self, external_id: str, *, finished: bool) -> bool:
        """Home Assistant's timer finished (it rings here) or was cancelled; False if unknown."""
        timer = self._timers.get(EXTERNAL_PREFIX + external_id)
        if timer is None:
            return False
        if finished:
            if timer.state is not TimerState.RINGING:
                self._set(timer.running(self.now(), 0.0))
                self._finish(timer.id)
        else:
            self._set(timer.with_state(TimerState.CANCELLED))
            self.metrics.timers_cancelled.inc()
        return True

    def snapshot(self) -> list[dict[str, Any]]:
        """The live timers for /status, as JSON-ready dicts."""
        now = self.now()
        return [{"id": t.id, "name": t.name, "label": label(t), "area": t.area,
                 "state": t.state.value, "duration_s": t.duration_s,
                 "remaining_s": round(t.remaining(now), 1), "ends_at_s": t.ends_at_s,
                 "created_s": t.created_s} for t in self.timers]

    async def close(self) -> None:
        """Stop the alarms and wait (bounded) for the last writes. The timers stay stored."""
        for alarm in self._alarms.values():
            alarm.cancel()
        self._alarms.clear()
        await self._flush()
        if self._own_db is not None:
            self._own_db.close()

    # -- commands ------------------------------------------------------------------------------

    def _live(self, *states: TimerState) -> list[Timer]:
        return [t for t in self._timers.values() if t.state in states]

    def _start_timer(self, slots: dict[str, Any], area: str | None) -> str:
        if slots.get("conversation_command"):
            return self.answers.LATER_COMMAND
        duration_s = duration_from_slots(slots)
        if duration_s is None:
            return self.answers.NO_DURATION
        if duration_s < 1.0:
            return self.answers.TOO_SHORT
        if duration_s > self.config.max_duration_s + 0.5:
            return self.answers.too_long(self.config.max_duration_s)
        now = self.now()
        name = clean_name(slots.get("name"))
        counting = self._live(TimerState.RUNNING, TimerState.PAUSED)
        same = [t for t in counting if name is not None and t.name == name]
        if same:
            return self.answers.duplicate(same[0], now)
        if len(counting) >= self.config.max_timers:
            return self.answers.too_many(self.config.max_timers)
        for old in self._live(TimerState.RINGING):  # "set the pasta timer again" while it rings
            if name is not None and old.name == name:
                self._set(old.with_state(TimerState.FINISHED))
        timer_area = str(slots["area"]) if slots.get("area") else area
        timer = new_timer(self._new_id(), duration_s, now, name=name, area=timer_area)
        self._set(timer)
        self.metrics.timers_started.inc()
        return self.answers.started(timer)

    def _cancel(self, query: TimerQuery) -> str:
        live = self._live(TimerState.RUNNING, TimerState.PAUSED, TimerState.RINGING)
        choice = choose(live, query, prefer_ringing=True)
        if (refusal := self._refusal(choice, query)) is not None:
            return refusal
        answer = self.answers.cancelled(choice.chosen)
        for timer in choice.chosen:
            if timer.state is TimerState.RINGING:
                self._set(timer.with_state(TimerState.FINISHED))
            else:
                self._set(timer.with_state(TimerState.CANCELLED))
                self.metrics.timers_cancelled.inc()
        return answer

    def _pause_or_resume(self, query: TimerQuery, *, pause: bool) -> str:
        wanted, other = ((TimerState.RUNNING, TimerState.PAUSED) if pause
                         else (TimerState.PAUSED, TimerState.RUNNING))
        choice = choose(self._live(wanted), query)
        if not choice.candidates:
            already = choose(self._live(other), query)
            if len(already.candidates) == 1:
                return self.answers.already(already.candidates[0])
            if already.candidates:
                return self.answers.already_all(other)
        if (refusal := self._refusal(choice, query)) is not None:
            return refusal
        now = self.now()
        timer = choice.chosen[0]
        if pause:
            self._set(timer.paused(now))
            return self.answers.paused(timer, now)
        resumed = timer.running(now, timer.remaining(now))
        self._set(resumed)
        return self.answers.resumed(resumed, now)

    def _change(self, slots: dict[str, Any], *, added: bool) -> str:
        amount_s = duration_from_slots(slots)
        if not amount_s:
            return self.answers.NO_DURATION
        query = TimerQuery.from_slots(slots)
        states = [TimerState.RUNNING, TimerState.PAUSED] + ([TimerState.RINGING] if added else [])
        choice = choose(self._live(*states), query, prefer_ringing=added)
        if (refusal := self._refusal(choice, query)) is not None:
            return refusal
        now = self.now()
        timer = choice.chosen[0]
        left_s = timer.remaining(now) + (amount_s if added else -amount_s)
        if left_s > self.config.max_duration_s + 0.5:
            return self.answers.too_long(self.config.max_duration_s)
        if left_s <= 0:  # taken down to nothing: it runs out now
            changed = timer.running(now, 0.0)
        elif timer.state is TimerState.PAUSED:
            changed = dataclasses.replace(timer, remaining_s=left_s)
        else:  # running, or ringing and given more time
            changed = timer.running(now, left_s)
        self._set(changed)
        if left_s <= 0:
            self._finish(changed.id)
        return self.answers.changed(self._timers.get(changed.id, changed), amount_s, now, added=added)

    def _status(self, query: TimerQuery) -> str:
        live = self.timers
        matching = [t for t in live if query.matches(t)]
        if not matching:
            return self.answers.not_found(query)
        return self.answers.status(matching, self.now(), alone=len(live) == 1)

    def _refusal(self, choice: Choice, query: TimerQuery) -> str | None:
        """The answer when the command cannot act: nothing to act on, or which one?"""
        if not choice.candidates:
            return self.answers.not_found(query)
        if choice.ambiguous:
            return self.answers.which_one(choice.candidates)
        return None

    # -- state, alarms and writes --------------------------------------------------------------

    def _set(self, timer: Timer) -> None:
        """Record ``timer`` (live or ended), (re)arm its alarm, write it, update the gauge."""
        if timer.live:
            self._timers[timer.id] = timer
        else:
            self._timers.pop(timer.id, None)
        alarm = self._alarms.pop(timer.id, None)
        if alarm is not None:
            alarm.cancel()
        if timer.state is TimerState.RUNNING and timer.ends_at_s is not None:
            grace_s = EXTERNAL_GRACE_S if timer.id.startswith(EXTERNAL_PREFIX) else 0.0
            self._alarms[timer.id] = self.clock.call_at(timer.ends_at_s + grace_s,
                                                        functools.partial(self._finish, timer.id))
        elif timer.state is TimerState.RINGING:
            self._alarms[timer.id] = self.clock.call_at(self.now() + self.config.max_ring_s,
                                                        functools.partial(self._ring_over, timer.id))
        self._write(timer)
        self._update_gauge()

    def _finish(self, timer_id: str) -> None:
        """The alarm: the timer ran out. It rings, and the room is told."""
        timer = self._timers.get(timer_id)
        if timer is None or timer.state is not TimerState.RUNNING:
            return
        ringing = timer.with_state(TimerState.RINGING)
        self._set(ringing)
        self.metrics.timers_finished.labels(missed="false").inc()
        _LOGGER.info("timer %s (%s) ran out", timer.id, label(timer))
        if self.on_ring is not None:
            try:
                self.on_ring(ringing)
            except Exception:  # the room's callback; the timer itself is done and stored
                _LOGGER.exception("timer on_ring callback failed")
                self.metrics.errors.labels(kind="timer_on_ring").inc()

    def _ring_over(self, timer_id: str) -> None:
        timer = self._timers.get(timer_id)
        if timer is not None and timer.state is TimerState.RINGING:
            _LOGGER.info("timer %s rang for %.0f s without a stop", timer.id, self.config.max_ring_s)
            self._set(timer.with_state(TimerState.FINISHED))

    def _write(self, timer: Timer) -> None:
        """Queue the write. Tasks start in creation order, so writes reach the database in order."""
        if self._store is None or self._db is None:
            return
        task = asyncio.get_running_loop().create_task(
            self._db.call(self._store.save, timer, self.now(), default=False))
        self._writes.add(task)
        task.add_done_callback(self._write_done)

    def _write_done(self, task: asyncio.Task[bool]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("writing a timer failed", exc_info=task.exception())
            self.metrics.errors.labels(kind="timer_write").inc()

    async def _flush(self) -> None:
        pending = list(self._writes)
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=WRITE_WAIT_S)
        if late:
            _LOGGER.warning("%d timer writes still pending after %.0f s", len(late), WRITE_WAIT_S)

    async def _db_call(self, fn: Callable[..., T], *args: Any, default: T) -> T:
        if self._db is None:
            return default
        return await self._db.call(fn, *args, default=default)

    def _update_gauge(self) -> None:
        for state in (TimerState.RUNNING, TimerState.PAUSED, TimerState.RINGING):
            self.metrics.timers.labels(state=state.value).set(len(self._live(state)))
