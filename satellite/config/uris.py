"""Addresses of remote engines, parsed and checked once (pure)."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from satellite.errors import ConfigError


@dataclass(frozen=True)
class TcpAddress:
    host: str
    port: int

    def __str__(self) -> str:
        return f"tcp://{self.host}:{self.port}"


def tcp_address(uri: str, key: str) -> TcpAddress:
    """``tcp://host:port`` (a Wyoming server) or ``ConfigError`` naming ``key``."""
    parsed = urllib.parse.urlsplit(uri)
    try:
        port = parsed.port
    except ValueError:
        port = None
    if parsed.scheme != "tcp" or not parsed.hostname or not port:
        raise ConfigError(f"'{key}' = {uri!r}: expected a Wyoming server as tcp://host:port")
    return TcpAddress(parsed.hostname, port)


def is_http(uri: str) -> bool:
    return urllib.parse.urlsplit(uri).scheme in ("http", "https")


def check_llm_uri(uri: str, key: str = "llm.uri") -> None:
    """An OpenAI-compatible base URL (http[s]://host[:port][/v1]) or a Wyoming handle server."""
    if is_http(uri):
        if not urllib.parse.urlsplit(uri).hostname:
            raise ConfigError(f"'{key}' = {uri!r}: no host in the URL")
        return
    if not uri.startswith("tcp://"):
        raise ConfigError(f"'{key}' = {uri!r}: expected an OpenAI-compatible endpoint "
                          "(http://host:port/v1) or a Wyoming handle server (tcp://host:port)")
    tcp_address(uri, key)
