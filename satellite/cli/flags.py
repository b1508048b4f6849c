"""Command-line flags that mirror config keys, turned into dotted-key overrides.

Shared by the ``satellite`` entry point and the subcommands that re-read the
configuration themselves (``run`` on SIGHUP), so neither imports the other.
"""

from __future__ import annotations

import argparse
from typing import Any

from satellite.errors import SatelliteError

# Flags every subcommand has: flag dest -> dotted key.
SHARED_FLAGS = {
    "state_dir": "state_dir",
    "stt_model": "stt.model",
    "llm_model": "llm.model",
    "voice": "tts.voice",
    "log_level": "log.level",
}


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """``--set KEY=VALUE``, the shared flags and the subcommand's own ``config_flags``."""
    overrides: dict[str, Any] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SatelliteError(f"--set {item!r}: expected KEY=VALUE, e.g. --set llm.max_tokens=64")
        overrides[key.strip()] = value
    for dest, key in {**SHARED_FLAGS, **getattr(args, "config_flags", {})}.items():
        value = getattr(args, dest, None)
        if value is not None:
            overrides[key] = value
    return overrides
