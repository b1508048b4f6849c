"""The access token: from a file or the environment, never from the YAML file, never logged."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from satellite.config.schema import HomeAssistantConfig
from satellite.errors import ConfigError


def read_token(config: HomeAssistantConfig, env: Mapping[str, str] | None = None) -> str:
    """The token, or ``ConfigError`` saying where it was looked for (the value is never shown)."""
    env = os.environ if env is None else env
    if config.token_file:
        path = Path(config.token_file).expanduser()
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(f"homeassistant.token_file {path}: cannot be read "
                              f"({error.strerror or error})") from None
        if not token:
            raise ConfigError(f"homeassistant.token_file {path} is empty")
        return token
    token = env.get(config.token_env, "").strip() if config.token_env else ""
    if not token:
        raise ConfigError(f"homeassistant.url is set but there is no access token: put a "
                          f"long-lived token in a file named by homeassistant.token_file, or in "
                          f"${config.token_env or 'SATELLITE_HA_TOKEN'}")
    return token
