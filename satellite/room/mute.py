"""The privacy mute: the microphone itself is off, so nothing is heard, by the box or anyone else.

Muted, the capture stops reading the microphone (a live device is closed; a mic command or a
file is still read, to keep its place, and every chunk is dropped), so no audio reaches the
echo canceller, the VAD, the wake word, Home Assistant or any client. What mutes it, and what
unmutes it:

- ``voice``: "stop listening" (``intents.mute_words``), said to the box. Nothing spoken can
  undo it (the microphone is off): the switch or Home Assistant does.
- ``switch``: ``POST /mute`` on the health port (from this machine: a button's script, a shell),
  or ``audio.muted: true`` in the config (applied on SIGHUP). ``POST /unmute`` and
  ``audio.muted: false`` unmute whatever muted it.
- ``home assistant``: the satellite's mute switch in Home Assistant (``pause-satellite``); HA
  running the satellite again (``run-satellite``) lifts its own mute only, so a Home Assistant
  reconnecting never undoes a mute somebody asked for out loud.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from satellite.runtime.metrics import Metrics

_LOGGER = logging.getLogger(__name__)
BY = ("voice", "switch", "home assistant")


class PrivacyMute:
    def __init__(self, metrics: Metrics, clock: Callable[[], float] = time.time):
        self.metrics = metrics
        self.clock = clock
        self.by: set[str] = set()
        self.since_s: float | None = None
        self._watchers: list[Callable[[bool], None]] = []

    @property
    def muted(self) -> bool:
        return bool(self.by)

    def watch(self, on_change: Callable[[bool], None]) -> None:
        """``on_change(muted)`` when the microphone goes off or on (on the event loop)."""
        self._watchers.append(on_change)

    def mute(self, by: str) -> bool:
        """Muted by ``by`` (one of ``BY``); True if the microphone was on until now."""
        if by not in BY:
            raise ValueError(f"unknown mute source {by!r}")
        was = self.muted
        self.by.add(by)
        if not was:
            self.since_s = self.clock()
            _LOGGER.info("microphone off (privacy mute, by %s)", by)
            self._changed()
        return not was

    def unmute(self, by: str | None = None) -> bool:
        """Lift the mute ``by`` set (None: every mute); True if the microphone comes back on."""
        if not self.muted:
            return False
        if by is None:
            self.by.clear()
        else:
            self.by.discard(by)
        if self.muted:
            _LOGGER.info("%s lifted its mute; the microphone stays off (muted by %s)", by,
                         ", ".join(sorted(self.by)))
            return False
        self.since_s = None
        _LOGGER.info("microphone on (unmuted%s)", f" by {by}" if by else "")
        self._changed()
        return True

    def status(self) -> dict[str, Any]:
        return {"muted": self.muted, "by": sorted(self.by), "since_s": self.since_s}

    def _changed(self) -> None:
        self.metrics.muted.set(1.0 if self.muted else 0.0)
        for watcher in list(self._watchers):
            watcher(self.muted)
