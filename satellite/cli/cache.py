"""``satellite cache stats|clear``: the response cache in the state directory."""

from __future__ import annotations

import argparse
import datetime as dt

from satellite.config import Config, resolve_state_dir
from satellite.pipeline.cache import ResponseCache
from satellite.pipeline.store import open_state_db


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("cache", help="show or clear the response cache")
    parser.add_argument("action", choices=["stats", "clear"])
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    state_dir = resolve_state_dir(config.state_dir)
    conn = open_state_db(state_dir)
    cache = ResponseCache(conn, config.cache, model_identity="", system_prompt="")
    if args.action == "clear":
        print(f"cleared {cache.clear()} cached replies from {state_dir}")
        return 0
    stats = cache.stats()
    oldest = (dt.datetime.fromtimestamp(stats.oldest_s).isoformat(timespec="seconds")
              if stats.oldest_s else "-")
    print(f"state dir:    {state_dir}")
    print(f"entries:      {stats.entries} ({stats.with_audio} with audio, "
          f"{stats.bytes_audio / 1e6:.1f} MB)")
    print(f"total hits:   {stats.total_hits}")
    print(f"oldest entry: {oldest}")
    return 0
