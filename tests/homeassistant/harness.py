"""A real Home Assistant core (2024.3.3, from PyPI) run as a local process, for tests and benchmarks.

    venv = ensure_venv()                       # once per machine: HA's own venv in the cache
    with HomeAssistant(venv, config_dir) as ha:  # hass -c config_dir --skip-pip on 127.0.0.1
        ha.converse("turn on the kitchen lights")

Its configuration is the smallest one the satellite's client needs: ``demo`` (lights, locks,
sensors exposed to Assist), ``conversation``, ``api``/``websocket_api``, ``onboarding``,
``media_source`` (TTS) and ``http`` on a free loopback port. On the first start the harness
onboards over HTTP, as the frontend would, and makes a long-lived access token over the WebSocket
API (it does not expire in 30 minutes as an access token does); the auth storage stays in the
config dir, so ``stop()`` then ``start()`` keeps the token. Onboarding's ``core_config`` step is
left undone: it starts the google_translate, met, radio_browser and shopping_list integrations,
which reach the internet; the API does not depend on it.

The helpers block (urllib), with a timeout on every call: they drive HA from a test, sync or
async; the client under test brings its own HTTP stack.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from tests.homeassistant.install import HA_VERSION, HarnessError, InstallError, ensure_venv

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 10.0
START_TIMEOUT_S = 120.0  # ~2.5 s on an idle 2-core box; generous for a loaded CI machine
STOP_TIMEOUT_S = 30.0  # SIGTERM, then SIGKILL
POLL_S = 0.1
READY_ENTITY = "light.kitchen_lights"
LOG_NAME = "hass.log"

CONFIGURATION_YAML = """\
# Written by tests/homeassistant/harness.py: what the satellite's client needs, and no more
# (not default_config:, which pulls in many integrations and their requirements).
homeassistant:
  name: Sarai Test Home
  latitude: 52.3731
  longitude: 4.8922
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: NL
  currency: EUR
  language: en
  # URLs HA hands out (TTS audio, media) point here, not at the machine's network address
  internal_url: http://127.0.0.1:{port}
  external_url: http://127.0.0.1:{port}
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
websocket_api:
onboarding:
conversation:
demo:
media_source:
logger:
  default: info
"""

__all__ = [
    "HA_VERSION",
    "ApiError",
    "ApiResponse",
    "HarnessError",
    "HomeAssistant",
    "InstallError",
    "StartError",
    "UnreachableError",
    "ensure_venv",
    "speech_of",
]


class StartError(HarnessError):
    """Home Assistant did not become ready (exited, failed to set up, or timed out)."""


class UnreachableError(HarnessError):
    """Nothing answers at Home Assistant's address (refused, reset or timed out)."""


class ApiError(HarnessError):
    """Home Assistant answered a helper's request with an unexpected HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any  # parsed JSON, or the text when the answer is not JSON


def speech_of(reply: dict[str, Any]) -> str:
    """The sentence Home Assistant says in a conversation reply."""
    return str(reply["response"]["speech"]["plain"]["speech"])


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp's server binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class HomeAssistant:
    """One HA process over one config dir; start/stop as often as needed, same port and auth."""

    def __init__(self, venv: Path, config_dir: Path, *, port: int | None = None,
                 start_timeout_s: float = START_TIMEOUT_S, stop_timeout_s: float = STOP_TIMEOUT_S,
                 request_timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.hass_bin = venv / "bin" / "hass"
        self.config_dir = config_dir
        self.port = port or free_loopback_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = config_dir / LOG_NAME
        self.token = ""  # the long-lived access token, set by the first start()
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.request_timeout_s = request_timeout_s
        self._password = secrets.token_urlsafe(16)
        self._process: subprocess.Popen[bytes] | None = None
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "configuration.yaml").write_text(CONFIGURATION_YAML.format(port=self.port))

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start HA and return when the demo's entities answer; onboard on the first start."""
        if self.running:
            return
        if not self.port_free():
            raise StartError(f"port {self.port} on 127.0.0.1 is taken by another process")
        deadline = time.monotonic() + self.start_timeout_s
        env = {key: value for key, value in os.environ.items()
               if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        with open(self.log_path, "ab") as log:
            log.write(f"--- harness: {self.hass_bin} -c {self.config_dir} --skip-pip\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                [str(self.hass_bin), "-c", str(self.config_dir), "--skip-pip"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.config_dir, env=env, start_new_session=True)
        try:
            steps = self._wait_for_onboarding_view(deadline)
            if not steps.get("user"):
                self._onboard()
            self._wait_until_ready(deadline)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> int | None:
        """SIGTERM to HA's process group, SIGKILL after ``stop_timeout_s``; HA's exit code."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is not None:  # exited and reaped already: its pid may be reused
            return process.returncode
        self._signal_group(process, signal.SIGTERM)
        try:
            code = process.wait(self.stop_timeout_s)
        except subprocess.TimeoutExpired:
            logger.warning("Home Assistant did not stop within %.0f s of SIGTERM; killing it",
                           self.stop_timeout_s)
            self._signal_group(process, signal.SIGKILL)  # HA and whatever it started
            code = process.wait(self.stop_timeout_s)
        return code

    def port_free(self) -> bool:
        return port_is_free(self.port)

    def __enter__(self) -> HomeAssistant:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @staticmethod
    def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        try:
            # start_new_session: the group's id is HA's pid, not reused while HA is not reaped
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass  # the group is already gone: nothing to signal

    def _check_alive(self) -> None:
        if self._process is not None and self._process.poll() is not None:
            code = self._process.returncode
            self._process = None
            raise StartError(f"Home Assistant exited with code {code} while starting\n"
                             f"{self.log_tail(30)}\nlog: {self.log_path}")

    def _wait_for_onboarding_view(self, deadline: float) -> dict[str, bool]:
        """Wait for HTTP (HA serves it once bootstrap is done); the onboarding steps done."""
        while True:
            self._check_alive()
            try:
                response = self.request("GET", "/api/onboarding", anonymous=True)
            except UnreachableError:
                response = None
            if response is not None:
                if response.status != 200:
                    raise StartError(f"Home Assistant answers GET /api/onboarding with "
                                     f"{response.status}: an integration failed to set up?\n"
                                     f"{self.log_tail(30)}\nlog: {self.log_path}")
                return {step["step"]: step["done"] for step in response.body}
            self._sleep_until_next_poll(deadline, "to answer HTTP")

    def _wait_until_ready(self, deadline: float) -> None:
        """Wait until HA is RUNNING and the demo's entities exist (demo sets them up after HTTP)."""
        while True:
            self._check_alive()
            config = self.request("GET", "/api/config")
            if config.status == 401:
                raise StartError("Home Assistant refuses the harness's long-lived token (401)")
            if config.status == 200 and config.body.get("recovery_mode"):
                raise StartError(f"Home Assistant started in recovery mode: its configuration failed\n"
                                 f"{self.log_tail(30)}\nlog: {self.log_path}")
            if config.status == 200 and config.body.get("state") == "RUNNING":
                if self.request("GET", f"/api/states/{READY_ENTITY}").status == 200:
                    return
            self._sleep_until_next_poll(deadline, f"to be RUNNING with {READY_ENTITY}")

    def _sleep_until_next_poll(self, deadline: float, what: str) -> None:
        if time.monotonic() > deadline:
            raise StartError(f"Home Assistant took over {self.start_timeout_s:.0f} s {what}\n"
                             f"{self.log_tail(30)}\nlog: {self.log_path}")
        time.sleep(POLL_S)

    # -- onboarding and auth -----------------------------------------------------------------

    def _onboard(self) -> None:
        """Onboarding as the frontend does it, without a browser; then a long-lived token."""
        client_id = f"{self.url}/"
        user = self._expect(200, "POST", "/api/onboarding/users", {
            "client_id": client_id, "name": "Sarai Tests", "username": "sarai",
            "password": self._password, "language": "en"}, anonymous=True)
        tokens = self._expect(200, "POST", "/auth/token", {
            "grant_type": "authorization_code", "code": user["auth_code"], "client_id": client_id},
            anonymous=True, form=True)
        access_token = tokens["access_token"]
        self._expect(200, "POST", "/api/onboarding/analytics", {}, bearer=access_token)
        self._expect(200, "POST", "/api/onboarding/integration", {
            "client_id": client_id, "redirect_uri": f"{client_id}?auth_callback=1"},
            bearer=access_token)
        self.token = self._run_async(self._create_long_lived_token(access_token))

    async def _create_long_lived_token(self, access_token: str) -> str:
        timeout = aiohttp.ClientTimeout(total=self.request_timeout_s)
        async with asyncio.timeout(self.request_timeout_s):
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.ws_connect(f"{self.url}/api/websocket") as ws:
                    await ws.receive_json()  # auth_required
                    await ws.send_json({"type": "auth", "access_token": access_token})
                    auth = await ws.receive_json()
                    if auth.get("type") != "auth_ok":
                        raise StartError(f"WebSocket auth failed: {auth}")
                    await ws.send_json({"id": 1, "type": "auth/long_lived_access_token",
                                        "client_name": "sarai-satellite tests", "lifespan": 3650})
                    reply = await ws.receive_json()
        if not reply.get("success"):
            raise StartError(f"Home Assistant refused a long-lived token: {reply}")
        return str(reply["result"])

    @staticmethod
    def _run_async(coroutine: Any) -> Any:
        """Run a coroutine on a private loop in a worker thread: callable from async tests too."""
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ha-harness") as pool:
            return pool.submit(asyncio.run, coroutine).result()

    # -- REST API ----------------------------------------------------------------------------

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, *,
                bearer: str | None = None, anonymous: bool = False, form: bool = False) -> ApiResponse:
        """One HTTP request; the harness's token unless ``bearer`` or ``anonymous``. Any status."""
        headers = {}
        data = None
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        token = bearer or ("" if anonymous else self.token)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.request_timeout_s) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except (urllib.error.URLError, OSError) as error:  # refused, reset, timed out
            raise UnreachableError(f"{method} {self.url}{path}: {error}") from error
        text = raw.decode(errors="replace")
        try:
            return ApiResponse(status, json.loads(text))
        except json.JSONDecodeError:
            return ApiResponse(status, text)

    def _expect(self, status: int, method: str, path: str, body: dict[str, Any] | None = None,
                **options: Any) -> Any:
        response = self.request(method, path, body, **options)
        if response.status != status:
            raise ApiError(response.status, f"{method} {path} answered {response.status}: {response.body}")
        return response.body

    def state(self, entity_id: str) -> dict[str, Any]:
        """The entity's state object (``state``, ``attributes``, ...); ApiError 404 if unknown."""
        return dict(self._expect(200, "GET", f"/api/states/{entity_id}"))

    def call_service(self, domain: str, service: str, data: dict[str, Any] | None = None
                     ) -> list[dict[str, Any]]:
        """Call a service and wait for it (HA answers when it is done); the states it changed."""
        return list(self._expect(200, "POST", f"/api/services/{domain}/{service}", data or {}))

    def converse(self, text: str, *, language: str = "en",
                 conversation_id: str | None = None) -> dict[str, Any]:
        """What HA's conversation agent answers (REST ``/api/conversation/process``)."""
        body: dict[str, Any] = {"text": text, "language": language}
        if conversation_id is not None:
            body["conversation_id"] = conversation_id
        return dict(self._expect(200, "POST", "/api/conversation/process", body))

    def config_flow(self, handler: str, user_input: dict[str, Any]) -> dict[str, Any]:
        """Add an integration as the UI does: start its config flow, answer its one form."""
        flow = self._expect(200, "POST", "/api/config/config_entries/flow", {"handler": handler})
        if flow.get("type") != "form":
            raise ApiError(200, f"{handler} config flow did not ask for input: {flow}")
        return dict(self._expect(200, "POST", f"/api/config/config_entries/flow/{flow['flow_id']}",
                                 user_input))

    def ws(self, *commands: dict[str, Any]) -> list[Any]:
        """WebSocket API commands, in order, on one connection; each one's ``result``."""
        return list(self._run_async(self._ws(commands)))

    async def _ws(self, commands: tuple[dict[str, Any], ...]) -> list[Any]:
        timeout = aiohttp.ClientTimeout(total=self.request_timeout_s)
        results = []
        async with asyncio.timeout(self.request_timeout_s * (1 + len(commands))):
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.ws_connect(f"{self.url}/api/websocket") as ws:
                    await ws.receive_json()  # auth_required
                    await ws.send_json({"type": "auth", "access_token": self.token})
                    if (await ws.receive_json()).get("type") != "auth_ok":
                        raise ApiError(401, "WebSocket auth failed")
                    for number, command in enumerate(commands, start=1):
                        await ws.send_json({"id": number, **command})
                        while True:
                            reply = await ws.receive_json()
                            if reply.get("id") == number and reply.get("type") == "result":
                                break
                        if not reply.get("success"):
                            raise ApiError(400, f"{command['type']} failed: {reply.get('error')}")
                        results.append(reply.get("result"))
        return results

    def log_tail(self, lines: int = 100) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log yet)"
