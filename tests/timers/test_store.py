"""The timers table: what is saved comes back; broken rows and database errors do not stop the box."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from satellite.config import load_config
from satellite.errors import ConfigError
from satellite.pipeline.store import open_state_db
from satellite.timers import TimerState, TimerStore
from satellite.timers.model import new_timer

NOW = 1_700_000_000.0


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    made = open_state_db(tmp_path / "state")
    assert made is not None
    return made


def test_saved_timers_come_back_live_ones_only(conn: sqlite3.Connection) -> None:
    store = TimerStore(conn)
    running = new_timer("a", 600, NOW, name="Pasta", area="kitchen")
    paused = new_timer("b", 300, NOW + 1).paused(NOW + 61)
    cancelled = new_timer("c", 60, NOW + 2).with_state(TimerState.CANCELLED)
    for timer in (running, paused, cancelled):
        assert store.save(timer, NOW + 61)
    assert store.load_live() == [running, paused]
    assert store.get("b") == paused and paused.remaining_s == 240.0
    assert store.get("c") == cancelled
    assert store.prune(NOW + 62) == 1
    assert store.get("c") is None


def test_an_unusable_row_is_skipped(conn: sqlite3.Connection, caplog: pytest.LogCaptureFixture) -> None:
    conn.execute("INSERT INTO timers (id, name, area, duration_s, state, ends_at_s, remaining_s, "
                 "created_s, updated_s) VALUES ('x', NULL, NULL, 60, 'exploded', NULL, NULL, 0, 0)")
    conn.execute("INSERT INTO timers (id, name, area, duration_s, state, ends_at_s, remaining_s, "
                 "created_s, updated_s) VALUES ('y', NULL, NULL, 60, 'running', NULL, NULL, 0, 0)")
    assert TimerStore(conn).load_live() == []
    assert "not usable" in caplog.text


def test_a_database_error_is_a_warning_not_a_crash(conn: sqlite3.Connection,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    store = TimerStore(conn)
    conn.close()
    assert store.save(new_timer("a", 60, NOW), NOW) is False
    assert store.load_live() == []
    assert "saving timer a failed" in caplog.text


def test_timers_config_defaults_and_validation(tmp_path: Path) -> None:
    config = load_config(None, env={})
    assert (config.timers.enabled, config.timers.max_ring_s, config.timers.max_timers,
            config.timers.max_duration_s) == (True, 60.0, 10, 86400.0)
    path = tmp_path / "c.yaml"
    path.write_text("timers:\n  max_timers: 0\n")
    with pytest.raises(ConfigError, match=r"timers\.max_timers"):
        load_config(path, env={})
