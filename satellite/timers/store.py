"""Timers in the state database (the ``timers`` table of ``satellite.pipeline.store.SCHEMA``).

Synchronous, on a connection opened by ``open_state_db``; the caller runs each
method off the event loop (the state database's own thread). A database error
is one warning and a harmless result (nothing saved, nothing loaded): timers
keep running in memory.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from satellite.timers.model import Timer, TimerState

_LOGGER = logging.getLogger(__name__)

_COLUMNS = "id, name, area, duration_s, state, ends_at_s, remaining_s, created_s"


class TimerStore:
    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn
        self._lock = threading.Lock()

    def save(self, timer: Timer, now_s: float) -> bool:
        """Insert or update ``timer``; False (and a warning) if the database refused."""
        try:
            with self._lock:
                self._conn.execute(
                    f"INSERT INTO timers ({_COLUMNS}, updated_s) VALUES (?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT(id) DO UPDATE SET name=excluded.name, area=excluded.area,"
                    " duration_s=excluded.duration_s, state=excluded.state,"
                    " ends_at_s=excluded.ends_at_s, remaining_s=excluded.remaining_s,"
                    " updated_s=excluded.updated_s",
                    (timer.id, timer.name, timer.area, timer.duration_s, timer.state.value,
                     timer.ends_at_s, timer.remaining_s, timer.created_s, now_s))
            return True
        except sqlite3.Error as error:
            _LOGGER.warning("saving timer %s failed: %s", timer.id, error)
            return False

    def load_live(self) -> list[Timer]:
        """Timers that were running, paused or ringing, oldest first."""
        states = (TimerState.RUNNING.value, TimerState.PAUSED.value, TimerState.RINGING.value)
        try:
            with self._lock:
                rows = self._conn.execute(
                    f"SELECT {_COLUMNS} FROM timers WHERE state IN (?,?,?) ORDER BY created_s",
                    states).fetchall()
        except sqlite3.Error as error:
            _LOGGER.warning("loading timers failed: %s", error)
            return []
        timers = []
        for row in rows:
            timer = _from_row(row)
            if timer is None:
                _LOGGER.warning("timer row %r is not usable: skipped", row)
            else:
                timers.append(timer)
        return timers

    def prune(self, before_s: float) -> int:
        """Delete finished and cancelled timers last changed before ``before_s``; how many went."""
        try:
            with self._lock:
                cursor = self._conn.execute(
                    "DELETE FROM timers WHERE state IN (?,?) AND updated_s < ?",
                    (TimerState.FINISHED.value, TimerState.CANCELLED.value, before_s))
            return cursor.rowcount
        except sqlite3.Error as error:
            _LOGGER.warning("pruning old timers failed: %s", error)
            return 0

    def get(self, timer_id: str) -> Timer | None:
        try:
            with self._lock:
                row = self._conn.execute(f"SELECT {_COLUMNS} FROM timers WHERE id=?",
                                         (timer_id,)).fetchone()
        except sqlite3.Error as error:
            _LOGGER.warning("reading timer %s failed: %s", timer_id, error)
            return None
        return _from_row(row) if row is not None else None


def _from_row(row: tuple[Any, ...]) -> Timer | None:
    timer_id, name, area, duration_s, state, ends_at_s, remaining_s, created_s = row
    try:
        timer = Timer(str(timer_id), None if name is None else str(name), float(duration_s),
                      None if area is None else str(area), TimerState(state),
                      None if ends_at_s is None else float(ends_at_s),
                      None if remaining_s is None else float(remaining_s), float(created_s))
    except (TypeError, ValueError):
        return None
    if timer.state is TimerState.RUNNING and timer.ends_at_s is None:
        return None
    if timer.state is TimerState.PAUSED and timer.remaining_s is None:
        return None
    return timer
