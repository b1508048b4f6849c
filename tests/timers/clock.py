"""A clock the test moves by hand: ``advance(s)`` fires due alarms in time order, no sleeping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Alarm:
    when_s: float
    seq: int
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    def __init__(self, start_s: float = 1_700_000_000.0):
        self.now_s = start_s
        self._alarms: list[_Alarm] = []
        self._seq = 0

    def now(self) -> float:
        return self.now_s

    def call_at(self, when_s: float, callback: Callable[[], None]) -> _Alarm:
        self._seq += 1
        alarm = _Alarm(when_s, self._seq, callback)
        self._alarms.append(alarm)
        return alarm

    def advance(self, seconds: float) -> None:
        """Move time forward, firing each alarm that comes due, at its own time, in order."""
        target = self.now_s + seconds
        while True:
            due = [a for a in self._alarms if not a.cancelled and a.when_s <= target]
            if not due:
                break
            alarm = min(due, key=lambda a: (a.when_s, a.seq))
            self._alarms.remove(alarm)
            self.now_s = max(self.now_s, alarm.when_s)
            alarm.callback()
        self._alarms = [a for a in self._alarms if not a.cancelled]
        self.now_s = target

    @property
    def pending(self) -> int:
        return sum(1 for a in self._alarms if not a.cancelled)
