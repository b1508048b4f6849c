"""The state database (SQLite, WAL) that holds the response cache and conversation memory.

WAL with ``synchronous=NORMAL`` keeps committed rows after a crash or ``kill -9``.
An unwritable state directory degrades to no persistence with one log line.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

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
