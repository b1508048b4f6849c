"""The daemon's lifecycle: startup → main loop → shutdown, one asyncio process.

Startup loads the models off the event loop, self-tests them (one tiny
inference each, which also warms them), builds the turn service, starts the
Wyoming and health servers when enabled and the audio loop when configured,
then tells systemd it is ready. The main loop waits for a signal or the end of
the audio input. SIGHUP re-reads the configuration and applies the keys the
schema marks ``live``.

Shutdown is bounded whatever a device or a client does: each step (capture,
listener, doors, speaker, turn service and database) runs with its own time
limit, its failure is logged and the next step runs anyway, and the whole
shutdown fits in ``daemon.shutdown_timeout_s``. ``run_daemon`` adds a last
guard: if the process still cannot end (a thread stuck in a driver), it exits
without waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from satellite.assist.server import COMPONENT as ASSIST_COMPONENT
from satellite.assist.server import AssistSatelliteServer
from satellite.audio.sinks import AudioSink, create_sink
from satellite.audio.sources import create_source
from satellite.config.schema import Config, WakeConfig, live_keys
from satellite.daemon.capture import CaptureSupervisor
from satellite.daemon.notify import SystemdNotifier
from satellite.engines import ALL_STAGES, Engines, load_engines
from satellite.engines.probe import EngineProbe, safe_section
from satellite.engines.report import engine_report, report_line
from satellite.engines.vad import create_vad
from satellite.engines.wake import create_wake_detector
from satellite.errors import AudioError, ConfigError
from satellite.health.server import HealthServer
from satellite.home.room_commands import RoomCommands
from satellite.home.service import HomeService
from satellite.pipeline import TurnService, create_turn_service
from satellite.room.assist_turns import AssistTurns
from satellite.room.listener import Listener
from satellite.runtime.priority import lower_thread_priority
from satellite.runtime.state import RuntimeState
from satellite.wyoming.service import WyomingService

_LOGGER = logging.getLogger(__name__)
EXIT_FORCED = 70  # shutdown could not finish in time: the process was ended without waiting
FORCE_EXIT_MARGIN_S = 5.0  # beyond daemon.shutdown_timeout_s before the last guard fires
THREAD_JOIN_S = 2.0  # threads get this long to end after the loop has closed


class SatelliteDaemon:
    def __init__(self, config: Config, *, audio: bool = True,
                 reload_config: Callable[[], Config] | None = None,
                 state: RuntimeState | None = None, engines: Engines | None = None):
        self.config = config
        self.audio = audio
        self.reload_config = reload_config
        self.state = state or RuntimeState(recent_turns_max=config.health.recent_turns)
        self.engines = engines
        self.turns: TurnService | None = None
        self.listener: Listener | None = None
        self.sink: AudioSink | None = None
        self.wyoming: WyomingService | None = None
        self.assist: AssistSatelliteServer | None = None
        self.health: HealthServer | None = None
        self.home: HomeService | None = None
        self.notifier = SystemdNotifier(watchdog_enabled=config.health.watchdog)
        self.should_exit = asyncio.Event()
        self.exit_reason = ""
        self._capture: asyncio.Task[None] | None = None
        self._capture_supervisor: CaptureSupervisor | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self.started = asyncio.Event()

    # -- the whole life ------------------------------------------------------------------------

    async def serve(self) -> int:
        """Run until a signal (or the end of input when configured); 0 on a clean exit."""
        with self._signals():
            try:
                await self.startup()
                await self.main_loop()
            finally:
                await self.shutdown()
        return 0

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        installed = []
        for sig, handler in ((signal.SIGTERM, self._on_exit_signal),
                             (signal.SIGINT, self._on_exit_signal),
                             (signal.SIGHUP, self._on_reload_signal)):
            try:
                loop.add_signal_handler(sig, handler, sig)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                _LOGGER.debug("cannot handle %s here", sig.name)
        try:
            yield
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    def _on_exit_signal(self, sig: signal.Signals) -> None:
        if self.should_exit.is_set():
            _LOGGER.info("%s again: already shutting down", sig.name)
            return
        _LOGGER.info("%s received: shutting down", sig.name)
        self.exit_reason = sig.name
        self.should_exit.set()

    def _on_reload_signal(self, sig: signal.Signals) -> None:
        self.reload()

    # -- startup -------------------------------------------------------------------------------

    async def startup(self) -> None:
        config = self.config
        loop = asyncio.get_running_loop()
        for stage in ALL_STAGES:
            remote = getattr(config, stage).uri
            self.state.set_component(stage, "starting",
                                     f"connecting to {remote}" if remote else "loading model")
        input_on = self.audio and config.audio.input != "none"
        output_on = self.audio and config.audio.output != "none"
        self.state.set_component("mic", "starting" if input_on else "off",
                                 "" if input_on else "audio input off")
        self.state.set_component("speaker", "starting" if output_on else "off",
                                 "" if output_on else "audio output off")
        # Registered now, so /readyz cannot say 200 between the models and the Wyoming listener.
        wyoming_on = config.wyoming.enabled
        self.state.set_component("wyoming", "starting" if wyoming_on else "off",
                                 "" if wyoming_on else "wyoming.enabled: false")
        assist_on = config.assist_satellite.enabled and (input_on or output_on)
        self.state.set_component(ASSIST_COMPONENT, "starting" if assist_on else "off", "" if assist_on else (
            "assist_satellite.mode: local" if not config.assist_satellite.enabled else "no audio"))
        await self._start_health()
        if self.engines is None:
            self.notifier.status("loading models")
            self.engines = await loop.run_in_executor(None, self._load_engines)
        self.state.model_load_s.update({k: round(v, 3) for k, v in self.engines.load_s.items()})
        self.state.models.update(_model_names(self.engines))
        self.state.platform = engine_report(self.engines)
        _LOGGER.info("engines run on: %s", report_line(self.state.platform))
        for stage, line in self.engines.broken.items():  # the rest of the box serves without it
            self.state.set_component(stage, "failed", line)
        self.turns = create_turn_service(config, self.engines, self.state)
        await self.turns.start()  # Home Assistant connects in the background
        if self.health is not None:
            self.health.scheduler = self.turns.scheduler
        await self._self_test()
        await self._start_wyoming()
        if input_on or output_on:
            await self._start_audio(input_on, output_on)
        self.started.set()
        self.notifier.ready(self._summary())
        self._watchdog_start()
        _LOGGER.info("satellite ready (%s)", self._summary())

    async def _self_test(self) -> None:
        assert self.turns is not None
        engines = self.turns.engines
        local = [stage for stage in ALL_STAGES
                 if stage not in engines.links and stage not in engines.broken]
        if self.config.daemon.self_test:
            self.notifier.status("self-testing models")
            for stage in local:
                self.state.set_component(stage, "starting", "self-test")
            took_ms = await self.turns.self_test()  # ModelError ends startup with one message
            _LOGGER.info("engines self-tested: %s",
                         ", ".join(f"{stage} {ms:.0f} ms" for stage, ms in took_ms.items()) or "none local")
        for stage in local:  # a remote stage's state is its link's (RemoteMonitor)
            self.state.set_component(stage, "ready")

    def _summary(self) -> str:
        return ", ".join(f"{c.name} {c.state}" for c in self.state.components.values())

    def _load_engines(self) -> Engines:
        # nicer than the audio loop from here on: the engines' thread pools are created from
        # this thread and keep its priority (satellite.runtime.priority)
        lower_thread_priority()

        def progress(stage: str, state: str) -> None:
            if stage in ALL_STAGES and state == "loading":
                self.state.set_component(stage, "starting", "loading model")

        return load_engines(self.config, progress=progress)

    async def _start_health(self) -> None:
        """Early, so /healthz answers and /readyz says what is missing while models load."""
        if not self.config.health.enabled:
            return
        self.health = HealthServer(self.config, self.state, None)
        await self.health.start()

    async def _start_wyoming(self) -> None:
        if not self.config.wyoming.enabled:
            return
        assert self.turns is not None
        self.wyoming = WyomingService(self.config, self.turns, self.state)
        await self.wyoming.start()

    async def _start_audio(self, input_on: bool, output_on: bool) -> None:
        config = self.config
        assert self.turns is not None
        loop = asyncio.get_running_loop()
        if output_on:
            try:
                sink = create_sink(config.audio)
                assert sink is not None
                await sink.open()
                self.sink = sink
                self.state.set_component("speaker", "ready", sink.name)
                self.state.audio_devices["output"] = sink.name
            except AudioError as error:
                _LOGGER.warning("audio output: %s (replies will not be played)", error)
                self.state.set_component("speaker", "failed", str(error))
        # The room: it listens when there is a microphone, and speaks (replies, timers) when
        # there is a speaker, so a speaker-only box still rings its timers.
        vad = create_vad(config.vad)
        wake_config = await loop.run_in_executor(None, self._trusted_wake) if input_on else None
        if wake_config is None and input_on:  # broken on this machine: the room cannot wake it
            input_on = False
        wake = (await loop.run_in_executor(None, create_wake_detector, wake_config)
                if input_on and wake_config is not None else None)
        if wake is not None:
            self.state.models["wake"] = wake.name
            self.state.platform.setdefault("engines", {})["wake"] = {
                "runs": "local", "runtime": getattr(wake, "runtime", "openwakeword")}
        self.listener = Listener(config, self.turns, self.sink, vad, wake)
        if config.assist_satellite.enabled:
            self.assist = AssistSatelliteServer(config, self.state, self.listener.playback,
                                                self.turns.timers, self.listener.wake_word_name)
            self.listener.assist = AssistTurns(config, self.assist.link, self.assist.player, self.turns,
                                               self.listener.playback)
        await self.listener.prepare()
        if self.assist is not None:
            await self.assist.start()  # SatelliteError (port taken) ends startup with one message
        if config.home.enabled and input_on:
            self.home = HomeService(config.home, self.state.metrics, config.room)
            try:
                await self.home.start()
            except OSError as error:
                raise ConfigError(f"home: cannot listen on udp {config.home.host}:"
                                  f"{config.home.port}: {error}") from None
            self.listener.home = self.home
            self.state.home = self.home.status
            commands = RoomCommands(self.home.rooms, self.turns.timers, config.language)
            self.turns.rooms = commands
            announcer = self.listener.announcer
            self.home.rooms.on_announce = lambda text, room: announcer.announce(
                commands.spoken(text, room))
        if not input_on:
            return
        try:
            source = create_source(config.audio, self.state.metrics)
        except AudioError as error:
            _LOGGER.warning("audio input: %s", error)
            self.state.set_component("mic", "failed", str(error))
            return
        assert source is not None
        self._capture_supervisor = CaptureSupervisor(source, self.state, self.listener.on_audio,
                                                     stall_s=config.health.mic_stall_s)
        mute = self.listener.mute  # the privacy mute closes the microphone itself
        self._capture_supervisor.set_muted(mute.muted)
        mute.watch(self._capture_supervisor.set_muted)
        self._capture = loop.create_task(self._capture_then_drain(), name="capture")

    def _trusted_wake(self) -> WakeConfig | None:
        """The wake word's config as its probe trusts it (LiteRT after a crash of the bundled
        TensorFlow Lite), or None when it is broken here: the mic is then ``failed`` with why."""
        config = self.config
        if config.wake.engine not in ("micro", "openwakeword") or not config.engines.probe:
            return config.wake
        verdict = EngineProbe(config, {"wake": config.wake}).verdicts(("wake",))["wake"]
        if verdict.state == "broken":
            self.state.set_component("mic", "failed", f"no wake word: {verdict.line}")
            return None
        return cast(WakeConfig, safe_section(config.wake, verdict))

    async def _capture_then_drain(self) -> None:
        assert self._capture_supervisor is not None and self.listener is not None
        await self._capture_supervisor.run()
        self.listener.end_of_input()
        await self.listener.wait_idle()
        if self.config.audio.exit_at_end:
            _LOGGER.info("end of audio input: exiting (audio.exit_at_end)")
            self.exit_reason = "end of input"
            self.should_exit.set()

    # -- main loop -----------------------------------------------------------------------------

    async def main_loop(self) -> None:
        await self.should_exit.wait()

    # -- reload --------------------------------------------------------------------------------

    def reload(self) -> None:
        if self.reload_config is None:
            _LOGGER.info("SIGHUP: no configuration source to reload")
            return
        try:
            new = self.reload_config()
        except ConfigError as error:
            _LOGGER.error("SIGHUP: configuration not reloaded: %s", error)
            return
        self.notifier.reloading()
        live, restart = config_changes(self.config, new)
        self.config = _apply_live(self.config, new, live)
        logging.getLogger().setLevel(self.config.log.level)
        if self.listener is not None:
            self.listener.reconfigure(self.config)
        if self._capture_supervisor is not None:
            self._capture_supervisor.stall_s = self.config.health.mic_stall_s
        _LOGGER.info("SIGHUP: configuration reloaded; applied: %s", ", ".join(live) or "nothing")
        if restart:
            _LOGGER.warning("SIGHUP: these changes need a restart: %s", ", ".join(restart))
        self.notifier.ready(self._summary())

    # -- shutdown ------------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Every step bounded and independent of the others' failures."""
        _LOGGER.info("shutting down%s", f" ({self.exit_reason})" if self.exit_reason else "")
        self.notifier.stopping()
        started = time.monotonic()
        budget_s = self.config.daemon.shutdown_timeout_s
        grace_s = min(self.config.audio.turn_grace_s, budget_s / 2)

        def left(share: float) -> float:
            return max(0.5, min(share, budget_s - (time.monotonic() - started)))

        if self._capture is not None:
            await _step("capture", _cancel(self._capture), left(2.0))
        # The room's turn and the network's requests wind down side by side.
        doors = []
        if self.listener is not None:
            doors.append(_step("listener", self.listener.stop(grace_s), left(grace_s + 4.0)))
        if self.wyoming is not None:
            doors.append(_step("wyoming", self.wyoming.stop(grace_s), left(grace_s + 3.0)))
        await asyncio.gather(*doors)
        if self.assist is not None:
            await _step("assist satellite", self.assist.stop(), left(4.0))
        if self.home is not None:
            await _step("home", self.home.stop(), left(2.0))
        if self.health is not None:
            await _step("health", self.health.stop(), left(2.0))
        if self.sink is not None:
            await _step("speaker", self.sink.close(), left(2.0))
        for task in self._tasks:
            task.cancel()
        if self.turns is not None:
            turns = self.turns
            await _step("home assistant", turns.stop(), left(2.0))
            await _step("turn service", asyncio.to_thread(turns.close, left(3.0)), left(4.0))
        self.notifier.close()
        _LOGGER.info("stopped in %.1f s", time.monotonic() - started)

    # -- systemd -------------------------------------------------------------------------------

    def _watchdog_start(self) -> None:
        probe = self.health.alive if self.health is not None else None
        task = self.notifier.start_watchdog(probe)
        if task is not None:
            self._tasks.append(task)


async def _cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _step(name: str, step: Awaitable[Any], timeout_s: float) -> None:
    """One shutdown step: its failure or overrun is logged, and shutdown goes on."""
    try:
        await asyncio.wait_for(step, timeout_s)
    except TimeoutError:
        _LOGGER.warning("shutdown: %s did not stop within %.1f s; going on", name, timeout_s)
    except Exception:
        _LOGGER.exception("shutdown: %s failed; going on", name)


def config_changes(old: Config, new: Config) -> tuple[list[str], list[str]]:
    """Changed keys as ``section.key``: those applied live, and those that need a restart."""
    live_ok = live_keys()
    live: list[str] = []
    restart: list[str] = []
    for section in dataclasses.fields(old):
        before, after = getattr(old, section.name), getattr(new, section.name)
        if before == after:
            continue
        if not dataclasses.is_dataclass(before):
            restart.append(section.name)
            continue
        for item in dataclasses.fields(before):
            if getattr(before, item.name) != getattr(after, item.name):
                key = f"{section.name}.{item.name}"
                (live if key in live_ok else restart).append(key)
    return live, restart


def _apply_live(old: Config, new: Config, live: list[str]) -> Config:
    sections: dict[str, Any] = {}
    for key in live:
        section, name = key.split(".", 1)
        sections.setdefault(section, {})[name] = getattr(getattr(new, section), name)
    return dataclasses.replace(old, **{
        section: dataclasses.replace(getattr(old, section), **values)
        for section, values in sections.items()})


def _model_names(engines: Engines) -> dict[str, str]:
    names: dict[str, str] = {}
    for stage in ALL_STAGES:
        engine = getattr(engines, stage)
        for attr in ("name", "identity"):
            value = getattr(engine, attr, None)
            if isinstance(value, str) and value:
                names[stage] = value
                break
    voice = getattr(engines.tts, "voice", None)
    if voice is not None:
        names["tts"] = voice.name
    return names


def run_daemon(config: Config, *, audio: bool = True,
               reload_config: Callable[[], Config] | None = None) -> int:
    """The process entry: run the daemon, then end the process (``os._exit``); never outlive a
    bounded shutdown."""
    started = time.perf_counter()
    daemon = SatelliteDaemon(config, audio=audio, reload_config=reload_config)
    code = _run_loop(daemon, config.daemon.shutdown_timeout_s)
    _LOGGER.info("daemon ran for %.1f s", time.perf_counter() - started)
    stuck = _threads_still_busy(THREAD_JOIN_S)
    if stuck:
        # Engine or device threads still in native code (a Whisper call finishing, a driver
        # that does not return): the interpreter would wait for them at exit.
        _LOGGER.warning("not waiting for %d busy thread(s) at exit: %s", len(stuck),
                        ", ".join(stuck))
    # The state is saved and every task ended: end the process here rather than let the
    # interpreter's finalization free the native engines (llama.cpp's context with several
    # sequences once crashed there, SIGSEGV after a clean shutdown) or wait for busy threads.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _threads_still_busy(wait_s: float) -> list[str]:
    deadline = time.monotonic() + wait_s
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in threading.enumerate()
            if t is not threading.main_thread() and not t.daemon and t.is_alive()]


def _run_loop(daemon: SatelliteDaemon, shutdown_timeout_s: float) -> int:
    """Like asyncio.run, but the loop's own cleanup is bounded too (asyncio.run waits for
    every thread of the default executor), and a guard ends the process if shutdown hangs."""
    loop = asyncio.new_event_loop()
    executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="daemon")
    loop.set_default_executor(executor)
    guards: list[threading.Timer] = []

    def arm_guard(_: object) -> None:  # from the moment shutdown starts, the clock runs
        guard = threading.Timer(shutdown_timeout_s + FORCE_EXIT_MARGIN_S, _force_exit,
                                args=(shutdown_timeout_s + FORCE_EXIT_MARGIN_S,))
        guard.daemon = True
        guard.start()
        guards.append(guard)

    try:
        main = loop.create_task(daemon.serve(), name="daemon")
        exit_watch = loop.create_task(daemon.should_exit.wait(), name="exit watch")
        exit_watch.add_done_callback(arm_guard)
        try:
            return loop.run_until_complete(main)
        finally:
            _cancel_all(loop)
    finally:
        for guard in guards:
            guard.cancel()
        loop.run_until_complete(loop.shutdown_asyncgens())
        executor.shutdown(wait=False, cancel_futures=True)
        loop.close()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.wait(tasks, timeout=2.0))


def _force_exit(limit_s: float) -> None:
    _LOGGER.error("shutdown did not finish within %.0f s: exiting without waiting", limit_s)
    logging.shutdown()
    os._exit(EXIT_FORCED)
