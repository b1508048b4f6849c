"""``SatelliteLink``: the satellite's one connection to Home Assistant and what HA has said over it.

Home Assistant keeps one connection to a satellite: it connects, sends
``run-satellite`` when it is ready to run pipelines, pings it, and sends
``pause-satellite`` when the satellite is muted from the dashboard (the
connection then stays open, silent) or when it stops. A newer connection
from the same address replaces an older one (HA reconnecting while the old socket
is half open); one from another host is refused while HA's lives.

The link is where the room and the connection meet: the room asks ``ready``,
starts a ``RemoteRun`` and streams audio through ``send_audio``; the
connection's handler feeds HA's events to the run. Sending never blocks the
caller: events go to the connection's outbox, whose writer task has the
write timeout (``satellite.assist.handler``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from wyoming.audio import AudioChunk, AudioStop
from wyoming.event import Event
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.wake import Detection

from satellite.assist.run import RemoteRun, RunOutcome
from satellite.audio.pcm import Pcm
from satellite.config.schema import AssistSatelliteConfig
from satellite.errors import SatelliteError
from satellite.runtime.metrics import Metrics

_LOGGER = logging.getLogger(__name__)


class LinkDownError(SatelliteError):
    """Home Assistant is not running this satellite (no connection, not run, or muted)."""


class Connection(Protocol):
    peer: str
    host: str | None  # the peer's address (None: a Unix socket)

    def send(self, event: Event) -> None: ...

    def close(self) -> None: ...


class SatelliteLink:
    def __init__(self, config: AssistSatelliteConfig, metrics: Metrics,
                 clock: Callable[[], float] = time.time):
        self.config = config
        self.metrics = metrics
        self.clock = clock
        self.connection: Connection | None = None
        self.running = False  # run-satellite received on this connection
        self.muted = False  # pause-satellite received, connection still open
        self.run: RemoteRun | None = None
        self.connected_since_s: float | None = None
        self.last_event_s: float | None = None
        self.runs = 0
        self.on_change: Callable[[], None] | None = None  # connected, running or muted changed
        # HA's mute switch: pause-satellite (True), run-satellite (False); the room's privacy mute
        self.on_mute: Callable[[bool], None] | None = None
        self._update_gauges()

    # -- state ------------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Home Assistant runs the satellite now: a question can go to its pipeline."""
        return self.connection is not None and self.running and not self.muted

    def status(self) -> dict[str, Any]:
        """The satellite role for /status."""
        run = self.run
        return {
            "mode": self.config.mode,
            "connected": self.connection is not None,
            "peer": self.connection.peer if self.connection is not None else None,
            "running": self.running,
            "muted": self.muted,
            "connected_since_s": self.connected_since_s,
            "last_event_s": self.last_event_s,
            "runs": self.runs,
            "run": None if run is None else {"live": run.live, "streaming": run.streaming,
                                             "transcript": run.transcript,
                                             "outcome": run.outcome.value if run.outcome else None},
        }

    def _update_gauges(self) -> None:
        self.metrics.assist_connected.set(1.0 if self.ready else 0.0)
        self.metrics.assist_muted.set(1.0 if self.muted and self.connection is not None else 0.0)
        if self.on_change is not None:
            self.on_change()

    # -- the connection ---------------------------------------------------------------------------

    def may_replace(self, connection: Connection) -> bool:
        """Whether ``connection`` may run the satellite: none runs it, or the one that does is
        from the same address (Home Assistant reconnecting while its old socket is half open).
        Another host never takes the microphone from a live Home Assistant connection."""
        current = self.connection
        return current is None or current is connection or current.host == connection.host

    def attach(self, connection: Connection) -> None:
        """A new connection from Home Assistant; an older one is closed (HA keeps one)."""
        old = self.connection
        if old is not None and old is not connection:
            _LOGGER.info("assist satellite: %s replaces the connection from %s", connection.peer, old.peer)
            self._end_run(RunOutcome.DISCONNECTED)
            old.close()
        self.connection = connection
        self.running = self.muted = False
        self.connected_since_s = self.last_event_s = self.clock()
        self._update_gauges()

    def detach(self, connection: Connection) -> None:
        if self.connection is not connection:
            return
        _LOGGER.info("assist satellite: Home Assistant at %s disconnected", connection.peer)
        self.connection = None
        self.running = self.muted = False
        self.connected_since_s = None
        self._end_run(RunOutcome.DISCONNECTED)
        self._update_gauges()

    def heard(self) -> None:
        self.last_event_s = self.clock()

    def on_run_satellite(self) -> None:
        if not self.running or self.muted:
            _LOGGER.info("assist satellite: Home Assistant runs the satellite")
        self.running, self.muted = True, False
        self._update_gauges()
        if self.on_mute is not None:
            self.on_mute(False)

    def on_pause_satellite(self) -> None:
        """Muted from Home Assistant: no more audio goes to it, and the room's microphone goes
        off (``on_mute``) until HA runs the satellite again."""
        if not self.muted:
            _LOGGER.info("assist satellite: paused (muted) by Home Assistant")
        self.running, self.muted = False, True
        self._end_run(RunOutcome.MUTED)
        self._update_gauges()
        if self.on_mute is not None:
            self.on_mute(True)

    def _end_run(self, outcome: RunOutcome) -> None:
        if self.run is not None:
            self.run.finish(outcome)

    # -- runs ---------------------------------------------------------------------------------------

    def begin_run(self, *, live: bool, wake_word: str | None) -> RemoteRun:
        """Ask Home Assistant to run its pipeline from speech to speech; LinkDownError if it cannot."""
        if not self.ready or self.connection is None:
            raise LinkDownError("Home Assistant is not running this satellite")
        if self.run is not None:
            self.run.finish(RunOutcome.ERROR)  # never two at once; the room runs one turn at a time
        run = RemoteRun(live=live, wake_word=wake_word)
        self.run = run
        self.runs += 1
        if wake_word:
            self.connection.send(Detection(name=wake_word, timestamp=None).event())
        self.connection.send(RunPipeline(
            start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS, wake_word_name=wake_word,
            restart_on_end=self.config.restart_on_end).event())
        return run

    def continue_run(self, previous: RemoteRun) -> RemoteRun:
        """``restart_on_end``: Home Assistant restarted its pipeline by itself after ``previous``
        was answered; the microphone streams to it again (no ``run-pipeline``)."""
        if not self.ready:
            raise LinkDownError("Home Assistant is not running this satellite")
        run = RemoteRun(live=True, wake_word=None)
        self.run = run
        self.runs += 1
        return run

    def send_audio(self, run: RemoteRun, pcm: Pcm) -> None:
        """Microphone audio for the run's question (16 kHz mono), while it streams."""
        if run is not self.run or not run.streaming or self.connection is None:
            return
        timestamp_ms = int(run.audio_sent_s * 1000)
        self.connection.send(AudioChunk(rate=pcm.rate_hz, width=pcm.width, channels=pcm.channels,
                                        audio=pcm.audio, timestamp=timestamp_ms).event())
        run.audio_sent_s += pcm.seconds

    def end_audio(self, run: RemoteRun) -> None:
        """The box ends the question itself (a recorded one, or the stream's time limit)."""
        ended = run.stop_streaming()
        if ended and run is self.run and self.connection is not None:
            self.connection.send(AudioStop(timestamp=int(run.audio_sent_s * 1000)).event())

    def end_run(self, run: RemoteRun) -> None:
        """The room is done with the run (answered, or given up on)."""
        if run is self.run:
            self.run = None
        if run.outcome is not None:
            self.metrics.assist_runs.labels(outcome=run.outcome.value).inc()
