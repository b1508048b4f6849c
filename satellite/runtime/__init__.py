"""Runtime state and metrics shared by the doors (daemon, Wyoming, health)."""

from satellite.runtime.metrics import Metrics, resident_memory_bytes
from satellite.runtime.state import ComponentState, RuntimeState, TurnRecord

__all__ = ["ComponentState", "Metrics", "RuntimeState", "TurnRecord", "resident_memory_bytes"]
