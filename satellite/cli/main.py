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

from satellite import __version__
from satellite.cli import ask, bench, cache, check, models, run, say, transcribe, turn
from satellite.cli.flags import overrides_from_args
from satellite.config import Config, load_config
from satellite.config.schema import choices_of
from satellite.errors import SatelliteError
from satellite.runtime.heap import limit_arenas

COMMANDS: list[ModuleType] = [transcribe, ask, say, turn, check, cache, bench, models, run]

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


def configure_logging(config: Config, one_shot: bool = False) -> None:
    """Configure logging once, here. One-shot commands log warnings only unless asked."""
    level = "WARNING" if one_shot and config.log.level == "INFO" else config.log.level
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("faster_whisper", "httpx", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def main(argv: Sequence[str] | None = None) -> int:
    limit_arenas()  # before any engine thread allocates
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
