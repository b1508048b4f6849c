"""What boxes of one home say to each other: small JSON datagrams, signed with the home's secret.

A message is ``<hex HMAC-SHA256 of the body> <body>``; the body is compact JSON with the home's
name, the sender's box id and boot (random at each start), a sequence number and the time it
was sent. A message is
taken only if it is at most ``MAX_BYTES``, its signature is right (a box outside the home cannot
silence a room or speak in it), it was sent within ``MAX_AGE_S`` of our clock, and its sequence
number is newer than the last one taken from that box's boot (a replayed datagram is dropped;
a box that restarted is known by its new boot and a newer send time).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_BYTES = 1024
MAX_AGE_S = 10.0
VERSION = 1


class Rejected(ValueError):
    """Why a datagram was not taken: ``reason`` is one word, for the metric."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Message:
    box: str  # the sender's id
    kind: str  # claim, announce, ...
    data: dict[str, Any]
    seq: int
    sent_s: float  # the sender's wall clock


@dataclass
class Codec:
    home: str
    secret: bytes
    box: str
    clock: Callable[[], float] = time.time
    boot: str = field(default_factory=lambda: secrets.token_hex(4))
    _seq: int = 0
    _last: dict[str, tuple[str, int, float]] = field(default_factory=dict)  # box: boot, seq, sent

    def encode(self, kind: str, data: dict[str, Any]) -> bytes:
        self._seq += 1
        body = json.dumps({"v": VERSION, "home": self.home, "box": self.box, "boot": self.boot,
                           "kind": kind,
                           "seq": self._seq, "sent": round(self.clock(), 3), "data": data},
                          separators=(",", ":"), ensure_ascii=False).encode()
        signed = self._sign(body) + b" " + body
        if len(signed) > MAX_BYTES:
            raise ValueError(f"a {kind} message of {len(signed)} bytes is over {MAX_BYTES}")
        return signed

    def decode(self, datagram: bytes) -> Message:
        """The message in ``datagram``, or ``Rejected``; our own messages are rejected as "self"."""
        if len(datagram) > MAX_BYTES:
            raise Rejected("oversized", f"{len(datagram)} bytes")
        signature, _, body = datagram.partition(b" ")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            raise Rejected("signature")
        try:
            fields = json.loads(body)
            box, kind, seq = str(fields["box"]), str(fields["kind"]), int(fields["seq"])
            sent_s, data = float(fields["sent"]), fields["data"]
            home, boot = fields["home"], str(fields["boot"])
        except (ValueError, KeyError, TypeError):
            raise Rejected("malformed") from None
        if not isinstance(data, dict) or fields.get("v") != VERSION:
            raise Rejected("malformed")
        if home != self.home:
            raise Rejected("home", str(home))
        if box == self.box:
            raise Rejected("self")
        if abs(self.clock() - sent_s) > MAX_AGE_S:
            raise Rejected("stale", f"{self.clock() - sent_s:.1f} s")
        last = self._last.get(box)
        if last is not None and (seq <= last[1] if boot == last[0] else sent_s <= last[2]):
            raise Rejected("replayed", f"{box} #{seq}")
        self._last[box] = (boot, seq, sent_s)
        return Message(box, kind, data, seq, sent_s)

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest().encode()
