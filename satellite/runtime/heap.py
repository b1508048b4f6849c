"""Keep the heap small: fewer malloc arenas, and freed memory given back after a turn.

Whisper and Piper allocate tens of MB per inference; glibc keeps the freed
pages, so the resident size creeps up by ~50 MB per engine. ``malloc_trim(0)``
returns them (a few ms, run off the event loop).

glibc also gives each thread that contends for the heap an arena of its own (up
to 8 per core), and memory freed in one arena is not reused by another: the
engine threads' transient peaks add up. Two arenas (``limit_arenas``, at start,
before any engine thread) cut the room's peak from 714 to 664 MB and the
resident size when ready from 595 to 545 MB at the same latency
(docs/benchmarks.md). Both are no-ops where glibc is absent.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

_LOGGER = logging.getLogger(__name__)


M_ARENA_MAX = -8  # glibc's mallopt parameter
ARENAS = 2


def _load(function: str):  # type: ignore[no-untyped-def]
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return getattr(ctypes.CDLL(name), function)
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _load("malloc_trim")
_MALLOPT = _load("mallopt")


def limit_arenas(arenas: int = ARENAS) -> bool:
    """At most ``arenas`` malloc arenas from now on, unless MALLOC_ARENA_MAX says otherwise
    (glibc applied it at start). True if the C library took the limit."""
    if _MALLOPT is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(_MALLOPT(M_ARENA_MAX, arenas))


def trim_heap() -> bool:
    """True if the C library released memory back to the system."""
    if _MALLOC_TRIM is None:
        return False
    return bool(_MALLOC_TRIM(0))
