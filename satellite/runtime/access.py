"""Who may connect to a port: ``allow_from``, a list of addresses and networks.

The Wyoming protocol has no authentication, and the box listens on all
interfaces by default so that Home Assistant finds it. An allow-list per port
("192.168.1.10", "192.168.1.0/24", "::1") keeps the rest of the LAN out: the
provider would answer anyone's questions and the satellite port would hand
anyone the microphone's audio after each wake word. An empty list allows every
address; a Unix socket's peer (this machine) is always allowed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from satellite.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str], key: str) -> tuple[Network, ...]:
    """``entries`` as networks (a bare address is a network of one); a bad one is a ConfigError
    naming ``key``."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ConfigError(f"{key}: {entry!r} is neither an address nor a network "
                              "(e.g. 192.168.1.10, 192.168.1.0/24, ::1)") from None
    return tuple(networks)


class AllowList:
    def __init__(self, entries: Iterable[str], key: str):
        self.key = key
        self.networks = parse_networks(entries, key)

    @property
    def everyone(self) -> bool:
        return not self.networks

    def allows(self, host: str | None) -> bool:
        """Whether a peer at ``host`` may connect (None: not an IP peer, e.g. a Unix socket)."""
        if self.everyone or host is None:
            return True
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])  # an IPv6 zone is not the host
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
        return any(address in network for network in self.networks)

    def describe(self) -> str:
        return "everyone" if self.everyone else ", ".join(str(n) for n in self.networks)


def peer_host(peername: object) -> str | None:
    """The host of a socket's ``peername`` (None for a Unix socket)."""
    if isinstance(peername, tuple) and peername:
        return str(peername[0])
    return None
