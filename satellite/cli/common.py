"""What the one-shot subcommands share: loading engines with progress, running a coroutine."""

from __future__ import annotations

import sys
import time

from satellite.config import Config
from satellite.engines import ALL_STAGES, Engines, load_engines
from satellite.engines.broken import WHAT
from satellite.errors import EngineBrokenError
from satellite.pipeline import TurnService, create_turn_service


def progress_printer(enabled: bool | None = None):  # type: ignore[no-untyped-def]
    """A progress callback that writes to a terminal's stderr, or None when not a terminal."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None

    def show(stage: str, state: str) -> None:
        end = "\n" if state != "loading" else ""
        print(f"\r  {stage:<6} {state:<24}", end=end, file=sys.stderr, flush=True)

    return show


def load(config: Config, only: tuple[str, ...] = ALL_STAGES) -> Engines:
    """The engines a one-shot command needs; one of them broken on this machine is its error."""
    engines = load_engines(config, progress=progress_printer(), only=only)
    for stage in engines.broken:
        if stage in only:
            raise EngineBrokenError(f"the {WHAT[stage]} engine does not work on this machine (the line "
                                    "above says why; 'satellite check' probes it again)", stage)
    return engines


def turn_service(config: Config, only: tuple[str, ...] = ALL_STAGES) -> TurnService:
    return create_turn_service(config, load(config, only))


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def elapsed_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
