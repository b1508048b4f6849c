"""Conversation memory: the last N exchanges per conversation id, in the state database."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable

from satellite.engines.llm import ChatMessage

_LOGGER = logging.getLogger(__name__)


class ConversationMemory:
    def __init__(self, conn: sqlite3.Connection | None, history_turns: int, ttl_s: float,
                 clock: Callable[[], float] = time.time):
        self._conn = conn
        self.history_turns = history_turns
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._volatile: dict[str, list[tuple[float, str, str]]] = {}

    def history(self, conversation: str) -> list[ChatMessage]:
        """Messages of the last exchanges, oldest first; empty if the conversation went stale."""
        if self.history_turns == 0 or not conversation:
            return []
        limit = 2 * self.history_turns
        rows = self._rows(conversation, limit)
        if not rows or self._clock() - rows[-1][0] > self.ttl_s:
            return []
        return [ChatMessage(role, content) for _, role, content in rows]

    def add_exchange(self, conversation: str, user: str, assistant: str) -> None:
        if self.history_turns == 0 or not conversation:
            return
        now = self._clock()
        rows = [(now, "user", user), (now, "assistant", assistant)]
        if self._conn is None:
            self._volatile.setdefault(conversation, []).extend(rows)
            del self._volatile[conversation][: -2 * self.history_turns]
            return
        try:
            with self._lock:
                self._conn.executemany(
                    "INSERT INTO messages (conversation, created_s, role, content) VALUES (?,?,?,?)",
                    [(conversation, *row) for row in rows])
                self._conn.execute(
                    "DELETE FROM messages WHERE conversation=? AND id NOT IN (SELECT id FROM messages"
                    " WHERE conversation=? ORDER BY id DESC LIMIT ?)",
                    (conversation, conversation, 2 * self.history_turns))
                self._conn.execute("DELETE FROM messages WHERE created_s < ?",
                                   (now - max(self.ttl_s, 86400.0),))
        except sqlite3.Error as error:
            _LOGGER.warning("conversation memory write failed: %s", error)

    def _rows(self, conversation: str, limit: int) -> list[tuple[float, str, str]]:
        if self._conn is None:
            return self._volatile.get(conversation, [])[-limit:]
        try:
            with self._lock:
                rows = self._conn.execute(
                    "SELECT created_s, role, content FROM messages WHERE conversation=?"
                    " ORDER BY id DESC LIMIT ?", (conversation, limit)).fetchall()
        except sqlite3.Error as error:
            _LOGGER.warning("conversation memory read failed: %s", error)
            return []
        return list(reversed(rows))
