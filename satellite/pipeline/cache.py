"""Response cache: a transcript seen before gets its reply (and its audio) without the LLM.

Key: normalized transcript + model identity + system prompt, hashed. Policy:
time-sensitive questions are never stored or served (``is_time_sensitive``), nor
are turns inside a running conversation (their answer depends on the history).
Entries expire after ``ttl_s``; beyond ``max_entries`` the least recently used go,
and beyond ``max_audio_bytes`` of audio in all, the least recently used replies
lose their audio (their text stays). Stored audio carries the identity of the
voice that made it (model, speaker, length and noise scales, volume), and is
replayed only for the same identity.

The methods are synchronous (tests drive them with plain data); the turn
service calls them on the state database's own thread.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from satellite.audio.pcm import Pcm
from satellite.config.schema import CacheConfig
from satellite.pipeline.local_answers import is_time_sensitive, normalize_text

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedReply:
    reply: str
    audio: Pcm | None
    voice: str | None


@dataclass(frozen=True)
class CacheStats:
    entries: int
    with_audio: int
    total_hits: int
    bytes_audio: int
    oldest_s: float | None


def cache_key(query: str, model_identity: str, system_prompt: str) -> str:
    material = "\x1f".join((normalize_text(query), model_identity, system_prompt))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def is_cacheable(query: str) -> bool:
    return bool(normalize_text(query)) and not is_time_sensitive(query)


class ResponseCache:
    def __init__(self, conn: sqlite3.Connection | None, config: CacheConfig, model_identity: str,
                 system_prompt: str, clock: Callable[[], float] = time.time):
        self._conn = conn if config.enabled else None
        self.config = config
        self.model_identity = model_identity
        self.system_prompt = system_prompt
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._conn is not None

    def _key(self, query: str) -> str:
        return cache_key(query, self.model_identity, self.system_prompt)

    def get(self, query: str) -> CachedReply | None:
        if self._conn is None or not is_cacheable(query):
            return None
        now = self._clock()
        try:
            with self._lock:
                row = self._conn.execute(
                    "SELECT reply, created_s, voice, audio, audio_rate_hz FROM responses WHERE key=?",
                    (self._key(query),),
                ).fetchone()
                if row is None or now - row[1] > self.config.ttl_s:
                    return None
                self._conn.execute("UPDATE responses SET hits=hits+1, used_s=? WHERE key=?",
                                   (now, self._key(query)))
        except sqlite3.Error as error:
            _LOGGER.warning("cache read failed: %s", error)
            return None
        audio = Pcm(row[3], row[4]) if row[3] and row[4] else None
        return CachedReply(row[0], audio, row[2])

    def put(self, query: str, reply: str, audio: Pcm | None = None, voice: str | None = None
            ) -> bool:
        if self._conn is None or not is_cacheable(query) or not reply.strip():
            return False
        if not self.config.store_audio:
            audio = None
        now = self._clock()
        try:
            with self._lock:
                self._conn.execute(
                    "INSERT OR REPLACE INTO responses (key, query, reply, model, created_s, used_s,"
                    " hits, voice, audio, audio_rate_hz) VALUES (?,?,?,?,?,?,0,?,?,?)",
                    (self._key(query), normalize_text(query), reply, self.model_identity, now, now,
                     voice if audio else None, audio.audio if audio else None,
                     audio.rate_hz if audio else None),
                )
                self._evict(now)
                self._evict_audio()
        except sqlite3.Error as error:
            _LOGGER.warning("cache write failed: %s", error)
            return False
        return True

    def _evict(self, now: float) -> None:
        assert self._conn is not None
        self._conn.execute("DELETE FROM responses WHERE created_s < ?", (now - self.config.ttl_s,))
        self._conn.execute(
            "DELETE FROM responses WHERE key IN (SELECT key FROM responses ORDER BY used_s DESC"
            " LIMIT -1 OFFSET ?)", (self.config.max_entries,))

    def _evict_audio(self) -> None:
        """Drop the audio of the least recently used replies beyond ``max_audio_bytes`` in all."""
        assert self._conn is not None
        self._conn.execute(
            "UPDATE responses SET audio=NULL, audio_rate_hz=NULL, voice=NULL WHERE key IN ("
            " SELECT key FROM (SELECT key, SUM(LENGTH(audio)) OVER (ORDER BY used_s DESC, key)"
            " AS running_bytes FROM responses WHERE audio IS NOT NULL) WHERE running_bytes > ?)",
            (self.config.max_audio_bytes,))

    def stats(self) -> CacheStats:
        if self._conn is None:
            return CacheStats(0, 0, 0, 0, None)
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*), COUNT(audio), COALESCE(SUM(hits),0), COALESCE(SUM(LENGTH(audio)),0),"
                " MIN(created_s) FROM responses").fetchone()
        return CacheStats(row[0], row[1], row[2], row[3], row[4])

    def clear(self) -> int:
        if self._conn is None:
            return 0
        with self._lock:
            count = self._conn.execute("DELETE FROM responses").rowcount
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count
