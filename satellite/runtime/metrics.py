"""Prometheus metrics, in one registry of our own (so tests and several daemons do not collide).

Every door records into a ``Metrics`` instance it is handed; ``/metrics`` exposes it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

LATENCY_BUCKETS_S = (0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.65, 0.8, 1.0, 1.5, 2.0, 3.0,
                     5.0, 10.0)
STAGES = ("end_of_speech", "stt", "llm_first_token", "first_sentence", "tts_first_audio",
          "first_reply_audio", "turn_total")


class _ProcessMemory:
    """Resident memory read from /proc at scrape time."""

    def collect(self):  # type: ignore[no-untyped-def]
        family = GaugeMetricFamily("satellite_process_resident_memory_bytes",
                                   "Resident set size of the process")
        family.add_metric([], float(resident_memory_bytes()))
        yield family


def resident_memory_bytes() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.stage_seconds = Histogram(
            "satellite_stage_seconds", "Latency of each stage of a turn, from the end of speech",
            ["stage"], buckets=LATENCY_BUCKETS_S, registry=r)
        self.turns = Counter("satellite_turns", "Voice turns answered", ["door", "source"],
                             registry=r)
        self.cache_hits = Counter("satellite_cache_hits", "Response cache hits", registry=r)
        self.cache_misses = Counter("satellite_cache_misses", "Response cache misses", registry=r)
        self.errors = Counter("satellite_errors", "Errors by kind", ["kind"], registry=r)
        self.queue_depth = Gauge("satellite_queue_depth", "Requests waiting for an engine",
                                 registry=r)
        self.wyoming_connections = Gauge("satellite_wyoming_connections",
                                         "Open Wyoming connections", registry=r)
        self.wyoming_events = Counter("satellite_wyoming_events", "Wyoming events received",
                                      ["type"], registry=r)
        self.audio_overruns = Counter("satellite_audio_overruns",
                                      "Audio frames dropped or overrun", ["device"], registry=r)
        self.audio_source_speed_ratio = Gauge(
            "satellite_audio_source_speed_ratio",
            "How fast the audio source delivers, in times real time, over the last window (1 = a "
            "real device; far above 1 = no clock, paced)", registry=r)
        self.audio_source_floods = Counter(
            "satellite_audio_source_floods",
            "Times the audio source delivered much faster than real time and was paced", registry=r)
        self.audio_source_stalls = Counter(
            "satellite_audio_source_stalls",
            "Times the audio source delivered no frames for health.mic_stall_s", registry=r)
        self.timers_started = Counter("satellite_timers_started", "Timers started", registry=r)
        self.timers_finished = Counter(
            "satellite_timers_finished",
            "Timers that ran out (missed=true: while the process was down, announced at start)",
            ["missed"], registry=r)
        self.timers_cancelled = Counter("satellite_timers_cancelled", "Timers cancelled", registry=r)
        self.timers = Gauge("satellite_timers", "Live timers by state (running, paused, ringing)",
                            ["state"], registry=r)
        self.ready = Gauge("satellite_ready", "1 when every configured part is ready", registry=r)
        self.homeassistant_connected = Gauge(
            "satellite_homeassistant_connected", "1 while the Home Assistant connection is up",
            registry=r)
        self.homeassistant_requests = Counter(
            "satellite_homeassistant_requests", "Sentences sent to Home Assistant's conversation "
            "agent, by outcome (action_done, query_answer, error, timeout, unreachable, refused)",
            ["result"], registry=r)
        self.assist_connected = Gauge(
            "satellite_assist_connected",
            "1 while Home Assistant runs the box as its Assist satellite (connected, run-satellite)",
            registry=r)
        self.assist_muted = Gauge(
            "satellite_assist_muted", "1 while Home Assistant has muted the satellite (pause-satellite)",
            registry=r)
        self.assist_runs = Counter(
            "satellite_assist_runs", "Questions sent to Home Assistant's pipeline, by outcome (answered, "
            "no_speech, error, timeout, disconnected, muted)", ["outcome"], registry=r)
        self.assist_fallbacks = Counter(
            "satellite_assist_fallbacks",
            "Questions answered on the box because Home Assistant was not running the satellite "
            "(assist_satellite.mode: satellite)", registry=r)
        self.assist_announcements = Counter(
            "satellite_assist_announcements", "Announcements Home Assistant had the box play", registry=r)
        self.assist_timer_events = Counter(
            "satellite_assist_timer_events", "Timer events from Home Assistant, by type", ["type"],
            registry=r)
        self.home_rejected = Counter(
            "satellite_home_rejected", "Datagrams from the home's link not taken, by reason "
            "(signature, oversized, stale, replayed, home, malformed, rate)", ["reason"], registry=r)
        self.home_decisions = Counter(
            "satellite_home_decisions", "Wake words weighed with the home's other boxes, by outcome "
            "(answered, alone, yielded)", ["outcome"], registry=r)
        self.wake_checks = Counter(
            "satellite_wake_checks", "Wake word candidates Whisper read (wake.check), by outcome "
            "(woke, rejected, failed = no reading in time: the model's own cutoff decided)",
            ["outcome"], registry=r)
        self.muted = Gauge("satellite_muted", "1 while the microphone is off (the privacy mute)",
                           registry=r)
        self.connections_refused = Counter(
            "satellite_connections_refused", "Connections refused, by port (wyoming, assist_satellite) "
            "and reason (address = not in allow_from, takeover = another host while Home Assistant "
            "is connected)", ["port", "reason"], registry=r)
        self.remote_failures = Counter(
            "satellite_remote_failures", "Requests to a remote engine that failed, by stage (stt, "
            "llm, tts, intent) and reason (unreachable, timeout, bad_answer, refused, down = refused "
            "at once while it is down)", ["stage", "reason"], registry=r)
        self.remote_up = Gauge("satellite_remote_up", "1 while the stage's remote server answers",
                               ["stage"], registry=r)
        r.register(_ProcessMemory())

    def observe_stage(self, stage: str, milliseconds: float | None) -> None:
        if milliseconds is not None:
            self.stage_seconds.labels(stage=stage).observe(milliseconds / 1000.0)
