"""A small Hugging Face hub over local HTTP: the ``/resolve/`` URLs huggingface_hub asks for.

HEAD answers as huggingface.co does: ``X-Repo-Commit``, the ETag (a large
"LFS" file's sha256 in ``X-Linked-Etag`` with ``X-Linked-Size``, a small file's
git blob hash in ``ETag``) and ``Content-Length``; GET serves the bytes and
honours ``Range`` (a resume). Every request is recorded so tests can assert
what the client did.
"""

from __future__ import annotations

import hashlib
import http.server
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<path>.+)$")


@dataclass
class HubFile:
    data: bytes
    lfs: bool = True  # LFS files carry their sha256 as the ETag
    etag: str | None = None  # a lie, for checksum tests

    def real_etag(self) -> str:
        if self.lfs:
            return hashlib.sha256(self.data).hexdigest()
        return hashlib.sha1(b"blob %d\0" % len(self.data) + self.data).hexdigest()


@dataclass
class FakeHub:
    files: dict[tuple[str, str], HubFile] = field(default_factory=dict)  # (repo, path) -> file
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, Range
    url: str = ""
    drop_after_bytes: int | None = None  # a GET sends this much of the body, then the link drops

    def add(self, repo: str, path: str, data: bytes, *, lfs: bool = True, etag: str | None = None) -> None:
        self.files[(repo, path)] = HubFile(data, lfs, etag)

    def gets(self) -> list[tuple[str, str | None]]:
        return [(path, byte_range) for method, path, byte_range in self.requests if method == "GET"]


def _handler(hub: FakeHub) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet test output
            pass

        def _find(self) -> HubFile | None:
            match = _RESOLVE.match(unquote(self.path.split("?", 1)[0]))
            if match is None:
                return None
            return hub.files.get((match["repo"], match["path"]))

        def _headers(self, item: HubFile, length: int, start: int = 0) -> None:
            etag = item.etag or item.real_etag()
            self.send_response(206 if start else 200)
            self.send_header("X-Repo-Commit", COMMIT)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(item.data) - 1}/{len(item.data)}")
            if item.lfs:
                self.send_header("X-Linked-Etag", f'"{etag}"')
                self.send_header("X-Linked-Size", str(len(item.data)))
                self.send_header("ETag", '"not-the-linked-etag"')
            else:
                self.send_header("ETag", f'"{etag}"')
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(length))
            self.end_headers()

        def _missing(self) -> None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            hub.requests.append(("HEAD", self.path, None))
            item = self._find()
            if item is None:
                return self._missing()
            self._headers(item, len(item.data))

        def do_GET(self) -> None:  # noqa: N802
            byte_range = self.headers.get("Range")
            hub.requests.append(("GET", self.path, byte_range))
            item = self._find()
            if item is None:
                return self._missing()
            start = 0
            if byte_range:
                start = int(re.match(r"bytes=(\d+)-", byte_range)[1])  # type: ignore[index]
            body = item.data[start:]
            self._headers(item, len(body), start)
            if hub.drop_after_bytes is not None and len(body) > hub.drop_after_bytes:
                self.wfile.write(body[:hub.drop_after_bytes])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)

    return Handler


@contextmanager
def serve_hub(hub: FakeHub) -> Iterator[FakeHub]:
    """Serve ``hub`` on 127.0.0.1 (a free port) in a thread; ``hub.url`` is its endpoint."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-hub", daemon=True)
    thread.start()
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
