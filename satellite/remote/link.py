"""One remote server's health as the box sees it: up or down, and when to try it again.

Thread-safe: engine threads report each call's outcome, the monitor's probes
too. While a server is down, a call before the next retry time fails at once
(the room hears the apology now, not after another timeout); the first call or
probe after it is the reconnect attempt. The wait doubles from 1 s up to
``reconnect_max_s`` while the server stays down.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator

from satellite.errors import RemoteError

_LOGGER = logging.getLogger(__name__)
FIRST_RETRY_S = 1.0
STAGE_NAMES = {"stt": "speech recognition server", "tts": "speech synthesis server",
               "llm": "language model server", "intent": "intent server"}

Listener = Callable[["RemoteLink", "RemoteError | None"], None]


class RemoteLink:
    def __init__(self, stage: str, uri: str, probe: Callable[[], str], *,
                 reconnect_max_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        """``probe()`` asks the server who it is (a short description) or raises ``RemoteError``."""
        self.stage = stage
        self.uri = uri
        self.what = STAGE_NAMES.get(stage, f"{stage} server")
        self._probe = probe
        self.reconnect_max_s = reconnect_max_s
        self._clock = clock
        self._lock = threading.Lock()
        self.state = "unknown"  # unknown | up | down
        self.detail = ""  # the server's description when up, the last failure when down
        self.retry_at = 0.0
        self.last_ok_at = 0.0
        self._delay_s = 0.0
        self.listeners: list[Listener] = []  # called on the calling thread, after each outcome

    def before_call(self) -> None:
        """Fail at once while the server is down and its retry time has not come."""
        with self._lock:
            if self.state != "down":
                return
            wait_s = self.retry_at - self._clock()
            detail = self.detail
        if wait_s > 0:
            raise RemoteError(f"the {self.what} at {self.uri} is down ({detail}); "
                              f"next try in {wait_s:.1f} s", self.stage, "down")

    def succeeded(self, detail: str | None = None) -> None:
        with self._lock:
            was = self.state
            self.state = "up"
            self._delay_s = 0.0
            self.last_ok_at = self._clock()
            if detail is not None:
                self.detail = detail
            elif was != "up":
                self.detail = ""
        if was != "up":
            _LOGGER.info("%s at %s is up%s", self.what, self.uri, f" ({detail})" if detail else "")
        self._tell(None)

    def failed(self, error: RemoteError) -> None:
        with self._lock:
            was = self.state
            self._delay_s = (FIRST_RETRY_S if self._delay_s == 0.0
                             else min(self._delay_s * 2, self.reconnect_max_s))
            self.state = "down"
            self.detail = str(error)
            self.retry_at = self._clock() + self._delay_s
        if was != "down":  # one line per change, not one per retry
            _LOGGER.warning("%s", error)
        self._tell(error)

    @contextlib.contextmanager
    def call(self) -> Iterator[None]:
        """One request: refused at once while down; its outcome recorded."""
        self.before_call()
        try:
            yield
        except RemoteError as error:
            self.failed(error)
            raise
        self.succeeded()

    def probe(self) -> bool:
        """Ask the server now (the monitor's reconnect attempt); True when it answered."""
        try:
            detail = self._probe()
        except RemoteError as error:
            self.failed(error)
            return False
        self.succeeded(detail)
        return True

    def next_probe_in(self, interval_s: float) -> float:
        """Seconds until the monitor should probe: the retry time when down, else the interval."""
        with self._lock:
            now = self._clock()
            if self.state == "down":
                return self.retry_at - now
            if self.state == "unknown":
                return 0.0
            return self.last_ok_at + interval_s - now

    def _tell(self, error: RemoteError | None) -> None:
        for listener in list(self.listeners):
            listener(self, error)
