"""allow_from: addresses and networks that may connect."""

from __future__ import annotations

import pytest

from satellite.errors import ConfigError
from satellite.runtime.access import AllowList, peer_host


def test_an_empty_list_allows_everyone() -> None:
    allow = AllowList([], "wyoming.allow_from")
    assert allow.everyone and allow.allows("203.0.113.9") and allow.describe() == "everyone"


def test_addresses_and_networks_allow_their_hosts_only() -> None:
    allow = AllowList(["192.168.1.10", "10.0.0.0/8", "fd00::/8"], "wyoming.allow_from")
    assert allow.allows("192.168.1.10") and allow.allows("10.200.3.4") and allow.allows("fd00::5")
    assert not allow.allows("192.168.1.11") and not allow.allows("fe80::1")
    assert allow.allows("::ffff:10.1.2.3")  # an IPv4 peer seen through a dual-stack socket
    assert not allow.allows("not-an-address")
    assert allow.allows(None)  # a Unix socket's peer is this machine


def test_a_bad_entry_names_the_key() -> None:
    with pytest.raises(ConfigError, match="assist_satellite.allow_from: '192.168.1.300'"):
        AllowList(["192.168.1.300"], "assist_satellite.allow_from")


def test_peer_host_of_tcp_and_unix_peers() -> None:
    assert peer_host(("127.0.0.1", 5000)) == "127.0.0.1"
    assert peer_host(("::1", 5000, 0, 0)) == "::1"
    assert peer_host("") is None
