"""The Home Assistant door: Wyoming STT, TTS (streaming), intent and conversation over the shared engines."""

from satellite.wyoming.handler import ConnectionLimits, WyomingHandler
from satellite.wyoming.info import build_info
from satellite.wyoming.service import WyomingService

__all__ = ["ConnectionLimits", "WyomingHandler", "WyomingService", "build_info"]
