"""One connection to Home Assistant's WebSocket API: its conversation agent and its names.

Why the WebSocket API and not REST: one authenticated connection the daemon keeps
open, so a home command costs one message (no TCP/HTTP setup, no token check per
call), the connection's state is known before a command needs it (the room can
say "Home Assistant isn't answering" at once instead of after a timeout), and the
entity and area names come over the same connection. See docs/benchmarks.md for
the measured difference.

The client reconnects by itself with exponential backoff (1 s doubling up to
``reconnect_max_s``). Its state is the ``homeassistant`` component on /status
and /readyz: starting, ready, degraded (unreachable, retrying) or failed (token
refused). Every call is bounded by ``timeout_s``; a call fails with
``HomeAssistantError`` and never hangs. The token is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from satellite.config.schema import HomeAssistantConfig
from satellite.errors import SatelliteError
from satellite.runtime.state import RuntimeState

_LOGGER = logging.getLogger(__name__)
COMPONENT = "homeassistant"
CONNECT_TIMEOUT_S = 10.0
HEARTBEAT_S = 20.0  # aiohttp pings the server; a dead peer is noticed within ~2x this
# Domains whose entities people name when they talk to the room.
SPOKEN_DOMAINS = frozenset({
    "light", "switch", "fan", "cover", "lock", "climate", "media_player", "sensor", "binary_sensor",
    "scene", "script", "vacuum", "valve", "humidifier", "water_heater", "input_boolean",
})


class HomeAssistantError(SatelliteError):
    """Home Assistant is not configured, unreachable, too slow, or refused the request."""

    def __init__(self, text: str, reason: str = "unreachable"):
        super().__init__(text)
        self.reason = reason  # unreachable | timeout | auth | refused


@dataclass(frozen=True)
class HomeReply:
    """Home Assistant's answer to a sentence, as its conversation agent gave it."""

    speech: str
    response_type: str  # action_done | query_answer | error
    error_code: str | None = None  # e.g. no_intent_match, no_valid_targets
    conversation_id: str | None = None

    @property
    def understood(self) -> bool:
        return self.error_code not in ("no_intent_match", "no_intent_recognized")


@dataclass(frozen=True)
class HomeNames:
    """What the home calls its things: (friendly name, domain) per entity, and the areas."""

    entities: tuple[tuple[str, str], ...] = ()
    areas: tuple[str, ...] = ()


def reply_from_result(result: Any) -> HomeReply:
    """The answer inside a ``conversation/process`` result (pure; tolerant of missing fields)."""
    result = result if isinstance(result, dict) else {}
    response = result.get("response") if isinstance(result.get("response"), dict) else {}
    speech = response.get("speech", {}).get("plain", {}).get("speech", "") \
        if isinstance(response.get("speech"), dict) else ""
    data = response.get("data") if isinstance(response.get("data"), dict) else {}
    code = data.get("code") if response.get("response_type") == "error" else None
    return HomeReply(str(speech or ""), str(response.get("response_type") or "error"),
                     str(code) if code else None,
                     result.get("conversation_id") if isinstance(result.get("conversation_id"), str)
                     else None)


def names_from(states: Any, areas: Any) -> HomeNames:
    """Entity friendly names (spoken domains only) and area names from HA's lists (pure)."""
    entities: dict[str, str] = {}
    for item in states if isinstance(states, list) else []:
        entity_id = str(item.get("entity_id", "")) if isinstance(item, dict) else ""
        domain = entity_id.partition(".")[0]
        attributes = item.get("attributes") if isinstance(item, dict) else None
        name = attributes.get("friendly_name") if isinstance(attributes, dict) else None
        if domain in SPOKEN_DOMAINS and isinstance(name, str) and name.strip():
            entities.setdefault(name.strip().lower(), domain)
    area_names = sorted({str(a["name"]).strip().lower() for a in areas if isinstance(a, dict)
                         and isinstance(a.get("name"), str) and a["name"].strip()}
                        if isinstance(areas, list) else set())
    return HomeNames(tuple(sorted(entities.items())), tuple(area_names))


class HomeAssistantClient:
    def __init__(self, config: HomeAssistantConfig, token: str, state: RuntimeState,
                 language: str = "en",
                 on_names: Callable[[HomeNames], None] | None = None):
        self.config = config
        self._token = token
        self.state = state
        self.language = config.language or language
        self.on_names = on_names
        self.names = HomeNames()
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._session: aiohttp.ClientSession | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.last_error = ""
        self._last_reason = "unreachable"
        self.version = ""

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def websocket_url(self) -> str:
        base = self.config.url.rstrip("/")
        scheme = "wss" if base.startswith("https://") else "ws"
        return f"{scheme}://{base.split('://', 1)[-1]}/api/websocket"

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        self.state.set_component(COMPONENT, "starting", self.config.url)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        self._task = asyncio.get_running_loop().create_task(self._keep_connected(),
                                                            name="homeassistant")

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()
        self.state.set_component(COMPONENT, "off", "stopped")

    async def wait_connected(self, timeout_s: float) -> bool:
        try:
            await asyncio.wait_for(self._connected.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def _keep_connected(self) -> None:
        delay_s = 1.0
        while not self._closing:
            try:
                await self._connect()
                delay_s = 1.0
                names = asyncio.get_running_loop().create_task(self._fetch_names(), name="ha names")
                try:
                    await self._read_until_closed()
                finally:
                    names.cancel()
                self._down("degraded", "connection closed by Home Assistant; reconnecting")
            except HomeAssistantError as error:
                self._down("failed" if error.reason == "auth" else "degraded", str(error),
                           error.reason)
                if error.reason == "auth":
                    delay_s = self.config.reconnect_max_s  # a refused token will not fix itself soon
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as error:
                self._down("degraded", f"unreachable ({type(error).__name__}: {error}); retrying")
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, self.config.reconnect_max_s)

    async def _connect(self) -> None:
        assert self._session is not None
        ws = await self._session.ws_connect(self.websocket_url, heartbeat=HEARTBEAT_S,
                                            timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
                                            max_msg_size=16 * 1024 * 1024)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                hello = await ws.receive_json()
                if hello.get("type") != "auth_required":
                    raise HomeAssistantError(f"not a Home Assistant WebSocket API at {self.config.url}")
                await ws.send_json({"type": "auth", "access_token": self._token})
                answer = await ws.receive_json()
        except BaseException:
            await ws.close()
            raise
        if answer.get("type") != "auth_ok":
            await ws.close()
            raise HomeAssistantError(f"Home Assistant refused the access token "
                                     f"({answer.get('message', answer.get('type'))})", "auth")
        self._ws = ws
        self._connected.set()
        self.last_error = ""
        self.version = str(answer.get("ha_version", "?"))
        self.state.set_component(COMPONENT, "ready", f"{self.config.url} (Home Assistant {self.version})")
        self.state.metrics.homeassistant_connected.set(1)
        _LOGGER.info("connected to Home Assistant %s at %s", self.version, self.config.url)

    async def _fetch_names(self) -> None:
        """The devices' and areas' names, for recognizing home commands locally."""
        try:
            names = names_from(await self._call({"type": "get_states"}, CONNECT_TIMEOUT_S),
                               await self._call({"type": "config/area_registry/list"},
                                                CONNECT_TIMEOUT_S))
        except HomeAssistantError as error:
            _LOGGER.warning("Home Assistant's device names not fetched: %s", error)
            return
        self.names = names
        if self.on_names is not None:
            self.on_names(names)
        self.state.set_component(COMPONENT, "ready", f"{self.config.url} (Home Assistant "
                                 f"{self.version}, {len(names.entities)} devices, "
                                 f"{len(names.areas)} areas)")

    async def _read_until_closed(self) -> None:
        ws = self._ws
        assert ws is not None
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            try:
                data = message.json()
            except ValueError:
                continue
            for item in data if isinstance(data, list) else [data]:
                future = self._pending.pop(item.get("id"), None) if isinstance(item, dict) else None
                if future is not None and not future.done():
                    future.set_result(item)

    def _down(self, state: str, detail: str, reason: str = "unreachable") -> None:
        was_up = self._connected.is_set() or self.last_error != detail
        self._connected.clear()
        self._ws = None
        for future in self._pending.values():
            if not future.done():
                future.set_exception(HomeAssistantError("the connection to Home Assistant was lost"))
        self._pending.clear()
        self.state.set_component(COMPONENT, state, detail)
        self.state.metrics.homeassistant_connected.set(0)
        if was_up:  # one line per change, not one per retry
            _LOGGER.warning("Home Assistant at %s: %s", self.config.url, detail)
        self.last_error = detail
        self._last_reason = reason

    # -- calls -----------------------------------------------------------------------------------

    async def _call(self, message: dict[str, Any], timeout_s: float) -> Any:
        ws = self._ws
        if ws is None or ws.closed:
            raise HomeAssistantError("not connected to Home Assistant")
        call_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        try:
            async with asyncio.timeout(timeout_s):
                await ws.send_json({"id": call_id, **message})
                answer = await future
        except TimeoutError:
            raise HomeAssistantError(f"Home Assistant did not answer within {timeout_s:g} s",
                                     "timeout") from None
        finally:
            self._pending.pop(call_id, None)
        if not answer.get("success", False):
            error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
            raise HomeAssistantError(f"Home Assistant refused {message['type']}: "
                                     f"{error.get('message', 'unknown error')}", "refused")
        return answer.get("result")

    async def converse(self, text: str, conversation_id: str | None = None) -> HomeReply:
        """Home Assistant's conversation agent's answer to ``text``, within ``timeout_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.timeout_s
        if not self._connected.is_set() and not self.last_error:  # still connecting for the first time
            await self.wait_connected(self.config.timeout_s)
        if not self._connected.is_set():
            self.state.metrics.homeassistant_requests.labels(result="unreachable").inc()
            raise HomeAssistantError(f"Home Assistant is not connected ({self.last_error or 'starting'})",
                                     self._last_reason)
        message: dict[str, Any] = {"type": "conversation/process", "text": text,
                                   "language": self.language}
        if self.config.agent_id:
            message["agent_id"] = self.config.agent_id
        if conversation_id:
            message["conversation_id"] = conversation_id
        left_s = max(0.05, deadline - loop.time())
        try:
            reply = reply_from_result(await self._call(message, left_s))
        except HomeAssistantError as error:
            self.state.metrics.homeassistant_requests.labels(result=error.reason).inc()
            raise
        self.state.metrics.homeassistant_requests.labels(result=reply.response_type).inc()
        return reply
