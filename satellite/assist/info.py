"""The satellite role's ``info``: a ``satellite`` section, nothing else.

No ``wake`` program is advertised although the box has one: Home Assistant
would make a wake word entity of it and open provider connections to the
satellite port for it. The model's name goes in ``active_wake_words`` and in
each ``detection``.
"""

from __future__ import annotations

import socket

from wyoming.info import Attribution, Info, Satellite

from satellite import __version__
from satellite.config.schema import Config

PROJECT = Attribution(name="sarai-satellite", url="https://github.com/sarai-satellite")


def satellite_name(config: Config) -> str:
    return config.assist_satellite.name or socket.gethostname() or "sarai-satellite"


def build_satellite_info(config: Config, wake_model: str | None) -> Info:
    """What Home Assistant reads to make the satellite device.

    ``has_vad``: the box segments speech itself (in satellite mode it streams until
    HA's own VAD says the question is over).
    """
    satellite = Satellite(
        name=satellite_name(config), attribution=PROJECT, installed=True, version=__version__,
        description=f"sarai-satellite ({config.assist_satellite.mode} mode)",
        area=config.assist_satellite.area or None, has_vad=True,
        active_wake_words=[wake_model] if wake_model else [], max_active_wake_words=1,
        supports_trigger=False)
    return Info(satellite=satellite)
