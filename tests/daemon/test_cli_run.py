"""`satellite run` / `serve` flags mirror config keys."""

from __future__ import annotations

from satellite.cli.flags import overrides_from_args
from satellite.cli.main import build_parser
from satellite.cli.run import implied_input
from satellite.config import load_config


def overrides(*argv: str) -> dict[str, object]:
    args = build_parser().parse_args(list(argv))
    return {**implied_input(args), **overrides_from_args(args)}


def test_run_flags_map_to_config_keys() -> None:
    got = overrides("run", "--input-file", "q.wav", "--output-dir", "out", "--wake", "micro",
                    "--wake-model", "okay_nabu", "--uri", "tcp://127.0.0.1:0", "--health-port", "0",
                    "--no-zeroconf", "--barge-in", "--vad", "silero")
    assert got["audio.input"] == "file" and got["audio.input_file"] == "q.wav"
    assert got["audio.output"] == "dir" and got["audio.output_dir"] == "out"
    assert got["wake.engine"] == "micro" and got["wake.model"] == "okay_nabu"
    assert got["wyoming.uri"] == "tcp://127.0.0.1:0" and got["health.port"] == 0
    assert got["wyoming.zeroconf"] is False and got["audio.barge_in"] is True
    config = load_config(None, env={}, overrides=got)
    assert config.vad.engine == "silero" and config.audio.input == "file"


def test_barge_in_can_be_turned_off_from_the_command_line() -> None:
    assert overrides("run", "--no-barge-in")["audio.barge_in"] is False
    assert "audio.barge_in" not in overrides("run")  # the config's (on by default)


def test_commands_imply_command_input_and_output() -> None:
    got = overrides("run", "--mic-command", "arecord -r 16000 -c 1 -f S16_LE -t raw",
                    "--snd-command", "aplay -r 22050 -c 1 -f S16_LE -t raw")
    config = load_config(None, env={}, overrides=got)
    assert config.audio.input == "command" and config.audio.output == "command"
    assert config.audio.mic_command.startswith("arecord")


def test_serve_has_door_flags_only_and_is_long_running() -> None:
    args = build_parser().parse_args(["serve", "--health-port", "0", "--no-wyoming"])
    assert args.audio is False and args.one_shot is False
    assert overrides_from_args(args)["health.port"] == 0
    assert implied_input(args) == {"wyoming.enabled": False, "assist_satellite.mode": "local"}


def test_satellite_flags_and_no_wyoming_means_no_satellite_port_either() -> None:
    got = overrides("run", "--satellite-uri", "tcp://127.0.0.1:0", "--satellite-mode", "satellite",
                    "--no-zeroconf")
    config = load_config(None, env={}, overrides=got)
    assert config.assist_satellite.uri == "tcp://127.0.0.1:0"
    assert config.assist_satellite.mode == "satellite" and config.assist_satellite.zeroconf is False
    assert load_config(None, env={}, overrides=overrides("run", "--no-wyoming")
                       ).assist_satellite.mode == "local"
