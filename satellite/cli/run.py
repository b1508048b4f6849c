"""``satellite run`` (the always-on daemon) and ``satellite serve`` (the same, without audio).

``serve`` is for boxes with no microphone or speaker: the Wyoming service and
the health endpoint only. Every flag mirrors a config key.
"""

from __future__ import annotations

import argparse
from typing import Any

from satellite.cli.flags import overrides_from_args
from satellite.config import Config, load_config
from satellite.config.schema import choices_of

# flag dest -> dotted config key (shared by both subcommands)
DOOR_FLAGS = {
    "uri": "wyoming.uri",
    "satellite_uri": "assist_satellite.uri",
    "satellite_mode": "assist_satellite.mode",
    "health_port": "health.port",
    "health_host": "health.host",
}
AUDIO_FLAGS = {
    "mic_command": "audio.mic_command",
    "mic_rate": "audio.mic_rate_hz",
    "snd_command": "audio.snd_command",
    "snd_rate": "audio.snd_rate_hz",
    "input_file": "audio.input_file",
    "input_device": "audio.input_device",
    "output_dir": "audio.output_dir",
    "output_device": "audio.output_device",
    "input": "audio.input",
    "output": "audio.output",
    "wake": "wake.engine",
    "wake_model": "wake.model",
    "wake_threshold": "wake.threshold",
    "vad": "vad.engine",
    "awake_wav": "audio.awake_wav",
    "done_wav": "audio.done_wav",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    run_parser = sub.add_parser("run", help="the always-on daemon: microphone, turns, speaker, "
                                            "Wyoming and health")
    _door_flags(run_parser)
    audio = run_parser.add_argument_group("audio")
    audio.add_argument("--input", choices=choices_of("audio.input"),
                       help="audio source (audio.input; implied by the flags below)")
    audio.add_argument("--input-device", help="microphone name or index (audio.input_device)")
    audio.add_argument("--input-file", metavar="WAV", help="listen to a WAV file (audio.input_file)")
    audio.add_argument("--mic-command", metavar="CMD",
                       help="raw s16le mono PCM from this command (audio.mic_command)")
    audio.add_argument("--mic-rate", type=int, help="its sample rate (audio.mic_rate_hz)")
    audio.add_argument("--output", choices=choices_of("audio.output"),
                       help="reply sink (audio.output; implied by the flags below)")
    audio.add_argument("--output-device", help="speaker name or index (audio.output_device)")
    audio.add_argument("--output-dir", metavar="DIR", help="write replies as WAVs (audio.output_dir)")
    audio.add_argument("--snd-command", metavar="CMD",
                       help="raw s16le mono PCM to this command's stdin (audio.snd_command)")
    audio.add_argument("--snd-rate", type=int, help="its sample rate, 0 = voice's (audio.snd_rate_hz)")
    audio.add_argument("--wake", choices=choices_of("wake.engine"),
                       help="wake word mode (wake.engine)")
    audio.add_argument("--wake-model", help="okay_nabu, hey_jarvis, alexa, hey_mycroft or a path "
                                            "(wake.model)")
    audio.add_argument("--wake-threshold", type=float, help="(wake.threshold)")
    audio.add_argument("--vad", choices=choices_of("vad.engine"), help="(vad.engine)")
    audio.add_argument("--awake-wav", help="chime on wake word (audio.awake_wav)")
    audio.add_argument("--done-wav", help="chime at the end of the question (audio.done_wav)")
    audio.add_argument("--barge-in", action="store_const", const=True, dest="barge_in",
                       help="the wake word or a stop word during a reply stops it, with the echo "
                            "canceller (audio.barge_in, on by default)")
    audio.add_argument("--no-barge-in", action="store_const", const=False, dest="barge_in",
                       help="a reply always plays to its end (audio.barge_in = false)")
    audio.add_argument("--keep-serving", action="store_const", const=False, dest="exit_at_end",
                       help="keep running when a file or mic command ends (audio.exit_at_end)")
    run_parser.set_defaults(func=run, one_shot=False, audio=True,
                            config_flags={**DOOR_FLAGS, **AUDIO_FLAGS, "barge_in": "audio.barge_in",
                                          "exit_at_end": "audio.exit_at_end"})

    serve_parser = sub.add_parser("serve", help="Wyoming and health only, no audio devices")
    _door_flags(serve_parser)
    serve_parser.set_defaults(func=run, one_shot=False, audio=False, config_flags=dict(DOOR_FLAGS))


def _door_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--uri", help="Wyoming provider URI, e.g. tcp://0.0.0.0:10300 (wyoming.uri)")
    parser.add_argument("--satellite-uri", help="Assist satellite URI, e.g. tcp://0.0.0.0:10700 "
                                                "(assist_satellite.uri)")
    parser.add_argument("--satellite-mode", choices=choices_of("assist_satellite.mode"),
                        help="who answers after the wake word (assist_satellite.mode)")
    parser.add_argument("--health-port", type=int, help="health endpoint port (health.port)")
    parser.add_argument("--health-host", help="health endpoint address (health.host)")
    parser.add_argument("--no-wyoming", action="store_const", const=False, dest="wyoming_enabled",
                        help="no Wyoming server at all: neither the provider (wyoming.enabled: false) nor "
                             "the satellite role (assist_satellite.mode: local)")
    parser.add_argument("--no-health", action="store_const", const=False, dest="health_enabled",
                        help="no health endpoint (health.enabled)")
    parser.add_argument("--no-zeroconf", action="store_const", const=False, dest="zeroconf",
                        help="do not announce over mDNS (wyoming.zeroconf, assist_satellite.zeroconf)")


def implied_input(args: argparse.Namespace) -> dict[str, Any]:
    """``--input-file`` means ``audio.input: file`` unless ``--input`` says otherwise, etc."""
    implied: dict[str, Any] = {}
    if getattr(args, "input", None) is None:
        if getattr(args, "input_file", None):
            implied["audio.input"] = "file"
        elif getattr(args, "mic_command", None):
            implied["audio.input"] = "command"
    if getattr(args, "output", None) is None:
        if getattr(args, "output_dir", None):
            implied["audio.output"] = "dir"
        elif getattr(args, "snd_command", None):
            implied["audio.output"] = "command"
    for dest, key in (("wyoming_enabled", "wyoming.enabled"), ("health_enabled", "health.enabled"),
                      ("zeroconf", "wyoming.zeroconf"), ("zeroconf", "assist_satellite.zeroconf")):
        if getattr(args, dest, None) is not None:
            implied[key] = getattr(args, dest)
    if getattr(args, "wyoming_enabled", None) is False and getattr(args, "satellite_mode", None) is None:
        implied["assist_satellite.mode"] = "local"
    return implied


def run(args: argparse.Namespace, config: Config) -> int:
    from satellite.daemon.app import run_daemon

    overrides = {**implied_input(args), **overrides_from_args(args)}

    def reload_config() -> Config:
        return load_config(args.config, overrides=overrides)

    if implied_input(args):
        config = reload_config()
    return run_daemon(config, audio=args.audio, reload_config=reload_config)
