"""Remote servers that are down, silent, slow or talk garbage: a typed failure within the timeout,
never a hang (fake servers on 127.0.0.1, port 0)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from satellite.audio import Pcm
from satellite.config import load_config
from satellite.config.schema import Config
from satellite.engines.llm import ChatMessage
from satellite.errors import ConfigError, RemoteError
from satellite.remote import FallbackLlm, OpenAiChatLlm, WyomingStt, WyomingTts, read_api_key
from tests.remote.servers import free_port

TIMEOUT_S = 0.5  # the remote's configured timeout in these tests
BOUND_S = 10.0  # a failure must come well within this, even on a loaded machine
QUESTION = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hello?")]

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def tcp_server(handler: Handler) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield f"tcp://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), BOUND_S)


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while await reader.read(65536):  # takes everything, answers nothing
            pass
    writer.close()


async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"this is not a wyoming event\n")
    await writer.drain()
    writer.close()


async def hangs_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readline()
    writer.close()


async def huge_header(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b'{"type": "transcript", "payload_length": 999999999999}\n')
    await writer.drain()
    writer.close()


async def error_event(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readline()
    writer.write(json.dumps({"type": "error", "data": {"text": "model not loaded"}}).encode() + b"\n")
    await writer.drain()
    writer.close()


def config(**overrides: object) -> Config:
    values: dict[str, object] = {"stt.timeout_s": TIMEOUT_S, "tts.timeout_s": TIMEOUT_S,
                                 "llm.timeout_s": TIMEOUT_S}
    values.update(overrides)
    return load_config(None, env={}, overrides=values)


async def failure(call: Callable[[], object]) -> tuple[RemoteError, float]:
    """The RemoteError ``call`` raises on a thread, and how long it took."""
    start = time.monotonic()
    async with asyncio.timeout(BOUND_S):
        with pytest.raises(RemoteError) as caught:
            await asyncio.to_thread(call)
    return caught.value, time.monotonic() - start


# -- Wyoming -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("handler", "reason", "words"), [
    (silent, "timeout", "did not answer within 0.5 s"),
    (garbage, "bad_answer", "malformed event header"),
    (hangs_up, "bad_answer", "closed the connection"),
    (huge_header, "bad_answer", "an event of"),
    (error_event, "refused", "model not loaded"),
])
async def test_a_bad_speech_server_fails_the_transcription_with_a_reason(
        handler: Handler, reason: str, words: str) -> None:
    async with tcp_server(handler) as uri:
        stt = WyomingStt(config(**{"stt.uri": uri}).stt)
        error, _ = await failure(lambda: stt.transcribe(Pcm.silence(1.0)))
    assert error.stage == "stt" and error.reason == reason and words in str(error)
    assert stt.link.state == "down"


async def test_a_speech_server_that_is_down_fails_at_once_then_fast_until_the_retry() -> None:
    stt = WyomingStt(config(**{"stt.uri": f"tcp://127.0.0.1:{free_port()}"}).stt)
    error, _ = await failure(lambda: stt.transcribe(Pcm.silence(1.0)))
    assert error.reason == "unreachable" and "unreachable" in str(error)
    error, _ = await failure(lambda: stt.transcribe(Pcm.silence(1.0)))
    assert error.reason == "down"


async def test_a_silent_voice_server_fails_the_sentence_within_its_timeout() -> None:
    async with tcp_server(silent) as uri:
        tts = WyomingTts(config(**{"tts.uri": uri}).tts)
        error, took_s = await failure(lambda: list(tts.synthesize("Hello there.")))
    assert error.stage == "tts" and error.reason == "timeout"
    assert took_s < BOUND_S


# -- OpenAI-compatible -----------------------------------------------------------------------------

@contextlib.asynccontextmanager
async def http_server(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                      ) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    app.router.add_get("/v1/models", handler)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        async with asyncio.timeout(BOUND_S):
            await runner.cleanup()


async def sse(request: web.Request, events: list[bytes], then: Callable[[], Awaitable[None]] | None = None
              ) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for event in events:
        await response.write(event)
    if then is not None:
        await then()
    return response


def piece(text: str) -> bytes:
    return b"data: " + json.dumps({"choices": [{"delta": {"content": text}}]}).encode() + b"\n\n"


async def forever() -> None:
    await asyncio.Event().wait()


def llm_for(uri: str, **overrides: object) -> OpenAiChatLlm:
    c = config(**{"llm.uri": uri, **overrides}).llm
    return OpenAiChatLlm(c, read_api_key(c, env={}))


async def test_the_llm_answer_streams_until_done_with_keepalives_skipped() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await sse(request, [b": keep-alive\n\n", piece("Hello"), piece(" there."),
                                   b"data: [DONE]\n\n"])

    async with http_server(handler) as uri:
        llm = llm_for(uri)
        async with asyncio.timeout(BOUND_S):
            pieces = await asyncio.to_thread(lambda: list(llm.stream(QUESTION)))
    assert pieces == ["Hello", " there."]


async def test_an_llm_that_stalls_mid_answer_fails_within_its_timeout() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await sse(request, [piece("Hello")], then=forever)

    async with http_server(handler) as uri:
        llm = llm_for(uri)
        got: list[str] = []
        error, took_s = await failure(lambda: got.extend(llm.stream(QUESTION)))
    assert got == ["Hello"] and error.reason == "timeout" and took_s < BOUND_S


@pytest.mark.parametrize(("handler_kind", "reason", "words"), [
    ("silent", "timeout", "did not answer within 0.5 s"),
    ("unauthorized", "refused", "HTTP 401"),
    ("garbage", "bad_answer", "not JSON"),
    ("error", "refused", "out of memory"),
])
async def test_a_bad_llm_endpoint_fails_the_answer_with_a_reason(handler_kind: str, reason: str,
                                                                 words: str) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        if handler_kind == "silent":
            await forever()
        if handler_kind == "unauthorized":
            return web.json_response({"error": {"message": "invalid api key"}}, status=401)
        if handler_kind == "garbage":
            return await sse(request, [b"data: {this is not json\n\n"])
        return await sse(request, [b'data: {"error": {"message": "out of memory"}}\n\n'])

    async with http_server(handler) as uri:
        llm = llm_for(uri)
        error, _ = await failure(lambda: list(llm.stream(QUESTION)))
    assert error.stage == "llm" and error.reason == reason and words in str(error)


async def test_the_api_key_comes_from_its_file_and_is_sent_as_a_bearer_token(tmp_path: Path) -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(request.headers.get("Authorization", ""))
        seen.append((await request.json())["model"])
        return await sse(request, [piece("Hi."), b"data: [DONE]\n\n"])

    key_file = tmp_path / "key"
    key_file.write_text("sk-test-123\n")
    async with http_server(handler) as uri:
        llm = llm_for(uri, **{"llm.api_key_file": str(key_file), "llm.model_name": "lfm2"})
        async with asyncio.timeout(BOUND_S):
            assert await asyncio.to_thread(lambda: list(llm.stream(QUESTION))) == ["Hi."]
    assert seen == ["Bearer sk-test-123", "lfm2"]


def test_an_unreadable_key_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="llm.api_key_file"):
        read_api_key(config(**{"llm.api_key_file": str(tmp_path / "missing")}).llm)
    assert read_api_key(config().llm, env={"SATELLITE_LLM_API_KEY": " k "}) == "k"


async def test_the_fallback_answers_when_the_endpoint_is_down() -> None:
    class Local:
        name, identity, context_tokens = "local", "local", 2048

        def count_tokens(self, text: str) -> int:
            return len(text.split())

        def stream(self, messages, cancel=None, max_tokens=None):  # type: ignore[no-untyped-def]
            yield "Local answer."

    remote = llm_for(f"http://127.0.0.1:{free_port()}/v1")
    llm = FallbackLlm(remote, Local(), remote.link)
    async with asyncio.timeout(BOUND_S):
        assert await asyncio.to_thread(lambda: list(llm.stream(QUESTION))) == ["Local answer."]
        assert await asyncio.to_thread(lambda: list(llm.stream(QUESTION))) == ["Local answer."]
    assert remote.link.state == "down"


# -- config ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "value", "words"), [
    ("stt.uri", "gpu-box:10300", "tcp://host:port"),
    ("tts.uri", "tcp://gpu-box", "tcp://host:port"),
    ("llm.uri", "ftp://gpu-box/v1", "OpenAI-compatible"),
    ("intent.uri", "http://gpu-box:10500", "tcp://host:port"),
])
def test_a_bad_remote_address_names_the_key(key: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as caught:
        load_config(None, env={}, overrides={key: value})
    assert words in str(caught.value)
