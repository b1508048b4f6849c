"""The language model on another machine, streamed piece by piece into the same sentence splitter.

``OpenAiChatLlm``: ``POST {llm.uri}/chat/completions`` with ``stream: true`` (llama.cpp's
server, llama-cpp-python's, Ollama, vLLM), the server-sent events read line by
line on the scheduler's thread with the standard library's ``http.client``. The
connection, the first piece and each next piece come within ``llm.timeout_s``.

``WyomingHandleLlm``: a Wyoming handle (conversation) server, e.g. another
sarai-satellite's ``serve``: ``transcript`` → ``handled-chunk``… or ``handled``.
It hears only the question; the conversation memory stays on this box.

Neither knows the remote model's tokenizer, so ``count_tokens`` is an estimate
on the safe side (about 3 characters per token; English runs near 4).
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from wyoming.asr import Transcript
from wyoming.error import Error
from wyoming.handle import Handled, HandledChunk, NotHandled

from satellite.config.schema import LlmConfig
from satellite.config.uris import tcp_address
from satellite.engines.llm import ChatMessage
from satellite.errors import ConfigError, RemoteError
from satellite.remote.link import RemoteLink
from satellite.remote.wyoming_io import Deadline, WyomingSession, describe
from satellite.remote.wyoming_probe import summary

_LOGGER = logging.getLogger(__name__)
CHARS_PER_TOKEN = 3
MAX_SSE_LINE_BYTES = 256 * 1024
MAX_ERROR_BODY_BYTES = 2048
MAX_STOP_SEQUENCES = 4  # the OpenAI API takes up to four
PROBE_TIMEOUT_S = 5.0


def read_api_key(config: LlmConfig, env: Mapping[str, str] | None = None) -> str:
    """The API key from ``llm.api_key_file`` or the environment; "" when there is none (a local
    llama.cpp server needs none). Never logged."""
    env = os.environ if env is None else env
    if config.api_key_file:
        path = Path(config.api_key_file).expanduser()
        try:
            key = path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(f"llm.api_key_file {path}: cannot be read "
                              f"({error.strerror or error})") from None
        if not key:
            raise ConfigError(f"llm.api_key_file {path} is empty")
        return key
    return env.get(config.api_key_env, "").strip() if config.api_key_env else ""


def estimate_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


class OpenAiChatLlm:
    def __init__(self, config: LlmConfig, api_key: str = "", reconnect_max_s: float = 30.0):
        self.config = config
        self.base_url = config.uri.rstrip("/")
        parts = urllib.parse.urlsplit(self.base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._path = parts.path.rstrip("/")
        self._api_key = api_key
        self.name = config.model_name or "remote"
        self.identity = f"openai:{self.base_url}:{config.model_name}"
        self.context_tokens = config.n_ctx
        self.link = RemoteLink("llm", self.base_url, self._probe, reconnect_max_s=reconnect_max_s)

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    # -- http ------------------------------------------------------------------------------------

    def _connection(self, timeout_s: float) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=timeout_s)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _request(self, conn: http.client.HTTPConnection, method: str, path: str,
                 body: bytes | None = None) -> http.client.HTTPResponse:
        try:
            conn.request(method, f"{self._path}{path}", body=body, headers=self._headers())
            response = conn.getresponse()
        except TimeoutError:
            raise self._timed_out() from None
        except (OSError, http.client.HTTPException) as error:
            raise self._unreachable(error) from None
        if response.status != 200:
            snippet = response.read(MAX_ERROR_BODY_BYTES).decode("utf-8", "replace").strip()
            reason = "refused"
            raise RemoteError(f"the {self.link.what} at {self.base_url} answered HTTP "
                              f"{response.status} to {path}: {snippet[:300]}", "llm", reason)
        return response

    def _probe(self) -> str:
        conn = self._connection(min(self.config.timeout_s, PROBE_TIMEOUT_S))
        try:
            response = self._request(conn, "GET", "/models")
            try:
                models = json.loads(response.read(MAX_SSE_LINE_BYTES))
                names = [str(m.get("id")) for m in models.get("data", []) if isinstance(m, dict)]
            except TimeoutError:
                raise self._timed_out() from None
            except (ValueError, AttributeError, OSError, http.client.HTTPException):
                raise self._bad("a model list that is not JSON") from None
        finally:
            conn.close()
        wanted = self.config.model_name
        if wanted and names and wanted not in names:
            raise RemoteError(f"the {self.link.what} at {self.base_url} has no model '{wanted}' "
                              f"(llm.model_name); it has: {', '.join(names[:5])}", "llm", "refused")
        return f"models: {', '.join(names[:3]) or 'none listed'}"

    # -- streaming -------------------------------------------------------------------------------

    def stream(self, messages: list[ChatMessage], cancel: threading.Event | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        with self.link.call():
            yield from self._stream(messages, cancel, max_tokens or self.config.max_tokens)

    def _body(self, messages: list[ChatMessage], max_tokens: int) -> bytes:
        c = self.config
        body: dict[str, Any] = {
            "model": c.model_name or "default",
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True, "max_tokens": max_tokens, "temperature": c.temperature,
            "top_p": c.top_p, "seed": c.seed,
        }
        if c.stop:
            body["stop"] = list(c.stop)[:MAX_STOP_SEQUENCES]
        return json.dumps(body).encode("utf-8")

    def _stream(self, messages: list[ChatMessage], cancel: threading.Event | None,
                max_tokens: int) -> Iterator[str]:
        conn = self._connection(self.config.timeout_s)  # bounds connect and every read
        try:
            response = self._request(conn, "POST", "/chat/completions",
                                     self._body(messages, max_tokens))
            for data in self._events(response):
                if cancel is not None and cancel.is_set():
                    return
                if data == "[DONE]":
                    return
                piece = self._piece(data)
                if piece:
                    yield piece
        finally:
            conn.close()

    def _events(self, response: http.client.HTTPResponse) -> Iterator[str]:
        """The ``data:`` fields of the server-sent events (comments and other fields skipped)."""
        while True:
            try:
                line = response.readline(MAX_SSE_LINE_BYTES)
            except TimeoutError:
                raise self._timed_out() from None
            except (OSError, http.client.HTTPException) as error:
                raise self._unreachable(error) from None
            if not line:
                return  # end of the response: a server that sends no [DONE] ends here
            if not line.endswith(b"\n") and len(line) >= MAX_SSE_LINE_BYTES:
                raise self._bad(f"an event line longer than {MAX_SSE_LINE_BYTES} bytes")
            text = line.decode("utf-8", "replace").strip()
            if text.startswith("data:"):
                yield text[5:].strip()

    def _piece(self, data: str) -> str:
        try:
            chunk = json.loads(data)
        except ValueError:
            raise self._bad(f"an event that is not JSON ({data[:80]!r})") from None
        if not isinstance(chunk, dict):
            raise self._bad("an event that is not a JSON object")
        if "error" in chunk:
            error = chunk["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise RemoteError(f"the {self.link.what} at {self.base_url} failed: {message}", "llm",
                              "refused")
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return ""
        delta = choices[0].get("delta")
        content = delta.get("content") if isinstance(delta, dict) else None
        return content if isinstance(content, str) else ""

    # -- errors ----------------------------------------------------------------------------------

    def _timed_out(self) -> RemoteError:
        return RemoteError(f"the {self.link.what} at {self.base_url} did not answer within "
                           f"{self.config.timeout_s:g} s", "llm", "timeout")

    def _unreachable(self, error: BaseException) -> RemoteError:
        detail = getattr(error, "strerror", None) or str(error) or type(error).__name__
        return RemoteError(f"the {self.link.what} at {self.base_url} is unreachable ({detail})",
                           "llm", "unreachable")

    def _bad(self, what: str) -> RemoteError:
        return RemoteError(f"the {self.link.what} at {self.base_url} sent {what}", "llm", "bad_answer")


class WyomingHandleLlm:
    """A Wyoming handle server as the language model: it answers the last question only."""

    def __init__(self, config: LlmConfig, reconnect_max_s: float = 30.0):
        self.config = config
        self.address = tcp_address(config.uri, "llm.uri")
        self.name = f"wyoming handle {self.address}"
        self.identity = f"wyoming-handle:{self.address}"
        self.context_tokens = config.n_ctx
        self.link = RemoteLink("llm", str(self.address), self._probe, reconnect_max_s=reconnect_max_s)

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def _probe(self) -> str:
        info = describe(self.address, "llm", self.link.what, min(self.config.timeout_s, PROBE_TIMEOUT_S))
        return summary(info, "handle", "llm", str(self.address))

    def stream(self, messages: list[ChatMessage], cancel: threading.Event | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        question = next((m.content for m in reversed(messages) if m.role == "user"), "")
        with self.link.call():
            yield from self._stream(question, cancel)

    def _stream(self, question: str, cancel: threading.Event | None) -> Iterator[str]:
        deadline = Deadline(self.config.timeout_s)
        streamed = False
        with WyomingSession(self.address, "llm", self.link.what, deadline) as session:
            session.write(Transcript(text=question).event())
            while not (cancel is not None and cancel.is_set()):
                event = session.read()
                deadline.restart()
                if HandledChunk.is_type(event.type):
                    streamed = True
                    yield HandledChunk.from_event(event).text
                elif Handled.is_type(event.type) or NotHandled.is_type(event.type):
                    text = (Handled.from_event(event).text if Handled.is_type(event.type)
                            else NotHandled.from_event(event).text) or ""
                    if not streamed and text:
                        yield text
                    if not streamed:
                        return
                elif event.type == "handled-stop":
                    return
                elif Error.is_type(event.type):
                    raise RemoteError(f"the {self.link.what} at {self.address} answered with an "
                                      f"error: {Error.from_event(event).text}", "llm", "refused")
