"""A blocking Wyoming connection for one request, every read and write bounded by a deadline.

Why blocking: the engines are synchronous and run on the scheduler's threads, so
a remote engine is a plain socket on that thread (``wyoming.event.read_event``
would read any line and any declared size; this reader bounds both). Each
``recv`` waits at most until the deadline, so a server that accepts and never
answers, or drips bytes, costs at most the stage's ``timeout_s``.
"""

from __future__ import annotations

import io
import json
import socket
import time
from collections.abc import Callable

from wyoming.event import Event, write_event

from satellite.config.uris import TcpAddress
from satellite.errors import RemoteError

MAX_LINE_BYTES = 64 * 1024
MAX_EVENT_BYTES = 16 * 1024 * 1024  # an audio chunk or a big info event fits many times over
RECV_BYTES = 64 * 1024


class Deadline:
    def __init__(self, timeout_s: float, clock: Callable[[], float] = time.monotonic):
        self.timeout_s = timeout_s
        self._clock = clock
        self.restart()

    def restart(self) -> None:
        """A new wait of ``timeout_s`` (the next piece of a stream)."""
        self._at = self._clock() + self.timeout_s

    def remaining_s(self) -> float:
        return self._at - self._clock()


class WyomingSession:
    """One TCP connection to a Wyoming server, used by one thread; closed on any failure."""

    def __init__(self, address: TcpAddress, stage: str, what: str, deadline: Deadline):
        self.address = address
        self.stage = stage
        self.what = what
        self.deadline = deadline
        self._buffer = bytearray()
        self._sock: socket.socket | None = None

    def __enter__(self) -> WyomingSession:
        try:
            self._sock = socket.create_connection((self.address.host, self.address.port),
                                                  timeout=self._timeout_s())
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except TimeoutError:
            raise self._timed_out() from None
        except OSError as error:
            raise RemoteError(f"the {self.what} at {self.address} is unreachable "
                              f"({error.strerror or error})", self.stage, "unreachable") from None
        return self

    def __exit__(self, *_: object) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def write(self, *events: Event) -> None:
        """Send events in one write."""
        out = io.BytesIO()
        for event in events:
            write_event(event, out)
        assert self._sock is not None
        try:
            self._sock.settimeout(self._timeout_s())
            self._sock.sendall(out.getvalue())
        except TimeoutError:
            raise self._timed_out() from None
        except OSError as error:
            raise self._lost(error) from None

    def read(self) -> Event:
        """The next event; ``RemoteError`` on timeout, a closed connection or a malformed event."""
        line = self._read_line()
        try:
            header = json.loads(line)
            event_type = header["type"]
            data = header.get("data") or {}
            data_length = int(header.get("data_length") or 0)
            payload_length = int(header.get("payload_length") or 0)
            if not isinstance(event_type, str) or not isinstance(data, dict):
                raise ValueError("type or data of the wrong kind")
        except (ValueError, KeyError, TypeError) as error:
            raise self._bad(f"a malformed event header ({error})") from None
        if not 0 <= data_length <= MAX_EVENT_BYTES or not 0 <= payload_length <= MAX_EVENT_BYTES:
            raise self._bad(f"an event of {data_length + payload_length} bytes")
        if data_length:
            try:
                extra = json.loads(self._read_exactly(data_length))
                data.update(extra)
            except (ValueError, TypeError, AttributeError) as error:
                raise self._bad(f"malformed event data ({error})") from None
        payload = self._read_exactly(payload_length) if payload_length else None
        return Event(type=event_type, data=data, payload=payload)

    # -- bytes -----------------------------------------------------------------------------------

    def _read_line(self) -> bytes:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[:end + 1]
                return line
            if len(self._buffer) > MAX_LINE_BYTES:
                raise self._bad(f"an event header longer than {MAX_LINE_BYTES} bytes")
            self._fill()

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _fill(self) -> None:
        assert self._sock is not None
        try:
            self._sock.settimeout(self._timeout_s())
            chunk = self._sock.recv(RECV_BYTES)
        except TimeoutError:
            raise self._timed_out() from None
        except OSError as error:
            raise self._lost(error) from None
        if not chunk:
            raise RemoteError(f"the {self.what} at {self.address} closed the connection "
                              "before answering", self.stage, "bad_answer")
        self._buffer += chunk

    def _timeout_s(self) -> float:
        remaining = self.deadline.remaining_s()
        if remaining <= 0:
            raise self._timed_out()
        return remaining

    # -- errors ----------------------------------------------------------------------------------

    def _timed_out(self) -> RemoteError:
        return RemoteError(f"the {self.what} at {self.address} did not answer within "
                           f"{self.deadline.timeout_s:g} s", self.stage, "timeout")

    def _lost(self, error: OSError) -> RemoteError:
        return RemoteError(f"the connection to the {self.what} at {self.address} was lost "
                           f"({error.strerror or error})", self.stage, "unreachable")

    def _bad(self, what: str) -> RemoteError:
        return RemoteError(f"the {self.what} at {self.address} sent {what}", self.stage, "bad_answer")


def describe(address: TcpAddress, stage: str, what: str, timeout_s: float) -> dict[str, object]:
    """The server's ``info`` event data (``describe`` → ``info``)."""
    from wyoming.info import Describe

    with WyomingSession(address, stage, what, Deadline(timeout_s)) as session:
        session.write(Describe().event())
        while True:
            event = session.read()
            if event.type == "info":
                return event.data
