"""Home Assistant, from the box's side: its conversation agent switches the devices."""

from satellite.homeassistant.client import (
    HomeAssistantClient,
    HomeAssistantError,
    HomeNames,
    HomeReply,
)
from satellite.homeassistant.token import read_token

__all__ = ["HomeAssistantClient", "HomeAssistantError", "HomeNames", "HomeReply", "read_token"]
