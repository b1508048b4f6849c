"""The ``satellite`` command: shared options, then one module per subcommand.

Each subcommand module has ``add_parser(subparsers)`` and ``run(args, config) -> int``.
Expected failures (``SatelliteError``) print one line and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from satellite import __version__
from satellite.cli import ask, bench, cache, check, run, say, transcribe, turn
from satellite.config import Config, load_config
from satellite.config.schema import choices_of
from satellite.errors import SatelliteError

COMMANDS: list[ModuleType] = [transcribe, ask, say, turn, check, cache, bench, run]

# CLI flags that mirror a config key: flag dest -> dotted key.
SHARED_FLAGS = {
    "state_dir": "state_dir",
    "stt_model": "stt.model",
    "llm_model": "llm.model",
    "voice": "tts.voice",
}


def register(module: ModuleType) -> None:
    """Add a subcommand module (used by the front doors that live in other packages)."""
    if module not in COMMANDS:
        COMMANDS.append(module)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="satellite", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"sarai-satellite {__version__}")
    parser.add_argument("--config", "-c", help="YAML config file (default: $SATELLITE_CONFIG or none)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override any config key, e.g. --set llm.max_tokens=64")
    parser.add_argument("--state-dir", help="cache and memory directory (state_dir)")
    parser.add_argument("--stt-model", help="CTranslate2 Whisper directory (stt.model)")
    parser.add_argument("--llm-model", help="GGUF file, e.g. LFM2-1.2B-Q4_K_M.gguf (llm.model)")
    parser.add_argument("--voice", help="Piper .onnx voice (tts.voice)")
    parser.add_argument("--log-level", choices=choices_of("log.level"),
                        help="log level (log.level)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SatelliteError(f"--set {item!r}: expected KEY=VALUE, e.g. --set llm.max_tokens=64")
        overrides[key.strip()] = value
    for dest, key in SHARED_FLAGS.items():
        if getattr(args, dest, None) is not None:
            overrides[key] = getattr(args, dest)
    if args.log_level:
        overrides["log.level"] = args.log_level
    for dest, key in getattr(args, "config_flags", {}).items():
        value = getattr(args, dest, None)
        if value is not None:
            overrides[key] = value
    return overrides


def configure_logging(config: Config, one_shot: bool = False) -> None:
    """Configure logging once, here. One-shot commands log warnings only unless asked."""
    level = "WARNING" if one_shot and config.log.level == "INFO" else config.log.level
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("faster_whisper", "httpx", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, overrides=overrides_from_args(args))
        configure_logging(config, one_shot=getattr(args, "one_shot", True))
        return int(args.func(args, config) or 0)
    except SatelliteError as error:
        print(f"satellite: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
