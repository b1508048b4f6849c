"""The state database (SQLite, WAL) that holds the response cache and conversation memory.

WAL with ``synchronous=NORMAL`` keeps committed rows after a crash or ``kill -9``.
An unwritable state directory degrades to no persistence with one log line.
Every read and write runs on the ``StateDbWorker``'s own thread, never on the
event loop: a checkpoint by ``satellite cache clear`` in another process can
hold the database for seconds.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_LOGGER = logging.getLogger(__name__)
DB_NAME = "satellite.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    query TEXT NOT NULL,
    reply TEXT NOT NULL,
    model TEXT NOT NULL,
    created_s REAL NOT NULL,
    used_s REAL NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0,
    voice TEXT,
    audio BLOB,
    audio_rate_hz INTEGER
);
CREATE INDEX IF NOT EXISTS responses_used ON responses(used_s);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation TEXT NOT NULL,
    created_s REAL NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages(conversation, id);
CREATE TABLE IF NOT EXISTS timers (
    id TEXT PRIMARY KEY,
    name TEXT,
    area TEXT,
    duration_s REAL NOT NULL,
    state TEXT NOT NULL,
    ends_at_s REAL,
    remaining_s REAL,
    created_s REAL NOT NULL,
    updated_s REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS timers_state ON timers(state);
"""


def open_state_db(state_dir: Path) -> sqlite3.Connection | None:
    """Open (creating) the state database, or None with one warning if that is impossible."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(state_dir / DB_NAME, timeout=5.0, check_same_thread=False,
                               isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(SCHEMA)
        return conn
    except (OSError, sqlite3.Error) as error:
        _LOGGER.warning("state directory %s is not usable (%s): running without cache and memory",
                        state_dir, error)
        return None


class StateDbWorker:
    """One thread for the state database, with a bound on each call."""

    def __init__(self, timeout_s: float = 10.0):
        self.timeout_s = timeout_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="state-db")

    async def call(self, fn: Callable[..., T], *args: Any, default: T) -> T:
        """``fn(*args)`` on the database thread; ``default`` (and one warning) if it takes too long."""
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor, functools.partial(fn, *args))
        except RuntimeError:  # closed
            return default
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError:
            _LOGGER.warning("state database call %s took over %.0f s: going on without it",
                            getattr(fn, "__qualname__", fn), self.timeout_s)
            return default

    def close(self, fn: Callable[[], None] | None = None, timeout_s: float = 5.0) -> bool:
        """Run ``fn`` (the final checkpoint) last, wait at most ``timeout_s``; True if it finished."""
        done = True
        if fn is not None:
            try:
                future = self._executor.submit(fn)
                future.result(timeout_s)
            except RuntimeError:
                pass
            except TimeoutError:
                _LOGGER.warning("closing the state database took over %.0f s: left to the OS",
                                timeout_s)
                done = False
        self._executor.shutdown(wait=False, cancel_futures=True)
        return done


def close_state_db(conn: sqlite3.Connection) -> None:
    """Checkpoint the WAL into the database file and close it."""
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    except sqlite3.Error as error:
        _LOGGER.warning("closing the state database: %s", error)
