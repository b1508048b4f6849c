"""Give freed heap memory back to the OS after a turn.

Whisper and Piper allocate tens of MB per inference; glibc keeps the freed
pages, so the resident size creeps up by ~50 MB per engine. ``malloc_trim(0)``
returns them (a few ms, run off the event loop). A no-op where glibc is absent.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

_LOGGER = logging.getLogger(__name__)


def _load_trim():  # type: ignore[no-untyped-def]
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _load_trim()


def trim_heap() -> bool:
    """True if the C library released memory back to the system."""
    if _MALLOC_TRIM is None:
        return False
    return bool(_MALLOC_TRIM(0))
