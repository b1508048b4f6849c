"""The daemon's lifecycle: startup → main loop → shutdown, one asyncio process.

Startup loads the models off the event loop (recording load times in
``RuntimeState``), builds the pipeline, starts the Wyoming and health servers
when enabled and the audio loop when configured, then tells systemd it is
ready. The main loop waits for a signal or the end of the audio input.
Shutdown gives the current turn ``audio.turn_grace_s`` to finish, aborts it
after that, stops the servers, closes the devices and the state database.
SIGHUP re-reads the configuration and applies what is safe to change live.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import logging
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

from satellite.audio.sinks import AudioSink, create_sink
from satellite.audio.sources import create_source
from satellite.config.schema import Config
from satellite.daemon.capture import CaptureSupervisor
from satellite.daemon.listener import Listener
from satellite.engines import ALL_STAGES, Engines, load_engines
from satellite.engines.vad import create_vad
from satellite.engines.wake import create_wake_detector
from satellite.errors import AudioError, ConfigError
from satellite.pipeline import VoicePipeline, create_pipeline
from satellite.runtime.state import RuntimeState

_LOGGER = logging.getLogger(__name__)

# Settings the running daemon can take on SIGHUP; anything else is reported as needing a restart.
LIVE_KEYS = {
    "vad": {"aggressiveness", "preroll_ms", "hangover_ms", "min_speech_ms", "max_utterance_s",
            "silero_threshold"},
    "wake": {"threshold", "refractory_s", "phrase", "followup_s"},
    "audio": {"barge_in", "turn_grace_s", "awake_wav", "done_wav", "exit_at_end"},
    "log": {"level"},
    "health": {"mic_stall_s"},
}


def _optional(module: str, name: str) -> Any:
    """A door written beside this one (Wyoming, health, systemd); None while it is not there."""
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as error:
        if error.name is not None and module.startswith(error.name):
            return None
        raise


class SatelliteDaemon:
    def __init__(self, config: Config, *, audio: bool = True,
                 reload_config: Callable[[], Config] | None = None,
                 state: RuntimeState | None = None, engines: Engines | None = None):
        self.config = config
        self.audio = audio
        self.reload_config = reload_config
        self.state = state or RuntimeState(recent_turns_max=config.health.recent_turns)
        self.engines = engines
        self.pipeline: VoicePipeline | None = None
        self.listener: Listener | None = None
        self.sink: AudioSink | None = None
        self.wyoming: Any = None
        self.health: Any = None
        self.notifier: Any = None
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
        self._notifier_start()
        loop = asyncio.get_running_loop()
        for stage in ALL_STAGES:
            self.state.set_component(stage, "starting", "loading model")
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
        await self._start_health()
        if self.engines is None:
            self._status("loading models")
            self.engines = await loop.run_in_executor(None, self._load_engines)
        for stage in ALL_STAGES:
            self.state.set_component(stage, "ready")
        self.state.model_load_s.update({k: round(v, 3) for k, v in self.engines.load_s.items()})
        self.state.models.update(_model_names(self.engines))
        from satellite.intents import intent_answer_for

        self.pipeline = create_pipeline(config, self.engines, intent_answer_for(config))
        if self.health is not None:
            self.health.scheduler = self.pipeline.scheduler
        await self._start_wyoming()
        if input_on or output_on:
            await self._start_audio(input_on, output_on)
        self.started.set()
        if self.notifier is not None:
            self.notifier.ready(self._summary())
        self._watchdog_start()
        _LOGGER.info("satellite ready (%s)", self._summary())

    def _summary(self) -> str:
        return ", ".join(f"{c.name} {c.state}" for c in self.state.components.values())

    def _load_engines(self) -> Engines:
        def progress(stage: str, state: str) -> None:
            if stage in ALL_STAGES and state == "loading":
                self.state.set_component(stage, "starting", "loading model")

        return load_engines(self.config, progress=progress)

    async def _start_health(self) -> None:
        """Early, so /healthz answers and /readyz says what is missing while models load."""
        if not self.config.health.enabled:
            return
        server_cls = _optional("satellite.health.server", "HealthServer")
        if server_cls is None:
            _LOGGER.warning("health server not available in this build")
            return
        self.health = server_cls(self.config, self.state, None)
        await self.health.start()

    async def _start_wyoming(self) -> None:
        if not self.config.wyoming.enabled:
            self.state.set_component("wyoming", "off", "wyoming.enabled: false")
            return
        service_cls = _optional("satellite.wyoming.service", "WyomingService")
        if service_cls is None:
            _LOGGER.warning("Wyoming service not available in this build")
            return
        self.state.set_component("wyoming", "starting")
        self.wyoming = service_cls(self.config, self.pipeline, self.state)
        await self.wyoming.start()

    async def _start_audio(self, input_on: bool, output_on: bool) -> None:
        config = self.config
        assert self.pipeline is not None
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
        if not input_on:
            return
        vad = create_vad(config.vad)
        wake = await loop.run_in_executor(None, create_wake_detector, config.wake)
        if wake is not None:
            self.state.models["wake"] = wake.name
        self.listener = Listener(config, self.pipeline, self.state, self.sink, vad, wake)
        try:
            source = create_source(config.audio, self.state.metrics)
        except AudioError as error:
            _LOGGER.warning("audio input: %s", error)
            self.state.set_component("mic", "failed", str(error))
            return
        assert source is not None
        self._capture_supervisor = CaptureSupervisor(source, self.state, self.listener.on_audio,
                                                     stall_s=config.health.mic_stall_s)
        self._capture = loop.create_task(self._capture_then_drain(), name="capture")

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
        if self.notifier is not None:
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
        if self.notifier is not None:
            self.notifier.ready(self._summary())

    # -- shutdown ------------------------------------------------------------------------------

    async def shutdown(self) -> None:
        _LOGGER.info("shutting down%s", f" ({self.exit_reason})" if self.exit_reason else "")
        if self.notifier is not None:
            self.notifier.stopping()
        if self._capture is not None:
            self._capture.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._capture
        if self.listener is not None:
            await self.listener.stop(self.config.audio.turn_grace_s)
        for door in (self.wyoming, self.health):
            if door is not None:
                await door.stop()
        if self.sink is not None:
            with contextlib.suppress(AudioError):
                await self.sink.close()
        for task in self._tasks:
            task.cancel()
        if self.pipeline is not None:
            self.pipeline.close()
        if self.notifier is not None:
            self.notifier.close()
        _LOGGER.info("stopped")

    # -- systemd -------------------------------------------------------------------------------

    def _notifier_start(self) -> None:
        notifier_cls = _optional("satellite.daemon.notify", "SystemdNotifier")
        if notifier_cls is not None:
            self.notifier = notifier_cls(watchdog_enabled=self.config.health.watchdog)

    def _watchdog_start(self) -> None:
        if self.notifier is None:
            return
        probe = self.health.alive if self.health is not None else None
        task = self.notifier.start_watchdog(probe)
        if task is not None:
            self._tasks.append(task)

    def _status(self, text: str) -> None:
        if self.notifier is not None:
            self.notifier.status(text)


def config_changes(old: Config, new: Config) -> tuple[list[str], list[str]]:
    """Changed keys as ``section.key``: those applied live, and those that need a restart."""
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
                (live if item.name in LIVE_KEYS.get(section.name, set()) else restart).append(key)
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
    """The process entry: run the daemon, translate a startup failure into a message."""
    started = time.perf_counter()
    try:
        return asyncio.run(SatelliteDaemon(config, audio=audio, reload_config=reload_config).serve())
    finally:
        _LOGGER.info("daemon ran for %.1f s", time.perf_counter() - started)
