"""Can every runtime dependency install on a Raspberry Pi 5 and on a plain x86-64 box?

The project is tested on x86-64 only, yet it is meant for a Pi 5 (64-bit Debian 12:
glibc 2.36, CPython 3.11) as much as for an N100. A dependency whose release has no
wheel for aarch64 and no usable sdist breaks `scripts/setup` there, and nothing on an
x86-64 machine would show it. This script takes the dependency closure of the
installed `sarai-satellite` (the installed versions, each requirement's environment
markers evaluated for the target), asks PyPI's JSON API for each release's file names
(metadata only, nothing is downloaded) and says how each package installs on each
target: a compatible wheel, an sdist (pure Python, or native code to compile), or
NONE. It prints a Markdown table and exits 1 naming every package with no path on a
target that is not a known exception, 2 when PyPI cannot be reached.

A release whose only platform wheels are `py3-none-<platform>` ships a prebuilt
library rather than building one, so its sdist is not counted as a path on a target
it has no wheel for (pymicro-wakeword's sdist bundles an x86-64 library).

    .venv/bin/python scripts/platforms.py [--extra NAME] [--markdown PATH] [--offline-json DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from importlib import metadata
from pathlib import Path

from packaging import tags
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

ROOT = "sarai-satellite"
TARGETS = {"x86-64": "x86_64", "aarch64": "aarch64"}  # column -> platform_machine
PYTHON = (3, 11)
GLIBC_MINOR = 36  # Debian 12
TIMEOUT_S = 10
NONE = "NONE"

# Packages the project installs some other way than from a PyPI file: how, and why.
KNOWN = {
    "llama-cpp-python": ("source build", "scripts/setup compiles it from its sdist on every platform"),
}


class Unreachable(Exception):
    """PyPI could not be asked."""


def marker_env(machine: str) -> dict[str, str]:
    """The environment markers of a CPython 3.11 on Linux with that machine."""
    env = dict(default_environment())
    env.update(platform_machine=machine, sys_platform="linux", platform_system="Linux", os_name="posix",
               python_version="3.11", python_full_version="3.11.2", implementation_name="cpython",
               platform_python_implementation="CPython")
    return env


def closure(root: str, extras: set[str], machine: str) -> dict[str, str | None]:
    """The distributions `root[extras]` needs on that machine: canonical name -> version.

    The installed version; for one not installed here (needed on the other machine only) the
    version it is pinned to with ==, or None; its own requirements are then unknown.
    """
    env, needed, seen = marker_env(machine), {}, set()
    todo = [(root, frozenset(extras))]
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            req = Requirement(line)
            if req.marker and not any(req.marker.evaluate({**env, "extra": e}) for e in {"", *wanted}):
                continue
            dep = canonicalize_name(req.name)
            try:
                needed[dep] = metadata.version(dep)
            except metadata.PackageNotFoundError:
                pins = [s.version for s in req.specifier if s.operator == "==" and "*" not in s.version]
                needed[dep] = needed.get(dep) or (pins[0] if pins else None)
            todo.append((dep, frozenset(req.extras)))
    return needed


def target_tags(machine: str) -> list[tags.Tag]:
    """The wheel tags pip accepts on CPython 3.11, glibc 2.36, that machine, best first (no musllinux)."""
    oldest = 17 if machine == "aarch64" else 5  # aarch64 manylinux starts at manylinux2014
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in range(GLIBC_MINOR, oldest - 1, -1)]
    platforms += [f"manylinux{legacy}_{machine}" for legacy in ("2014", "2010", "1")]
    return [*tags.cpython_tags(PYTHON, abis=["cp311"], platforms=platforms),
            *tags.compatible_tags(PYTHON, "cp311", platforms)]


_LEGACY_GLIBC = {"manylinux1": 5, "manylinux2010": 12, "manylinux2014": 17}


def _glibc_minor(platform: str) -> int:
    """17 for manylinux_2_17_aarch64 and manylinux2014_aarch64; 0 for any."""
    head = platform.split("_")[0]
    if platform == "any" or head in _LEGACY_GLIBC:
        return _LEGACY_GLIBC.get(head, 0)
    return int(platform.split("_")[2])


def how_it_installs(filenames: list[str], machine: str, native: bool = False) -> str:
    """How pip installs a release with these files on the target (`native`: it has compiled code)."""
    rank = {tag: i for i, tag in enumerate(target_tags(machine))}
    wheels, sdist = [], False
    for filename in filenames:
        if filename.endswith((".tar.gz", ".zip", ".tar.bz2")):
            sdist = True
            continue
        try:
            wheels.append(parse_wheel_filename(filename)[3])
        except InvalidWheelFilename:
            continue
    fitting = [wheel for wheel in wheels if not wheel.isdisjoint(rank)]
    if fitting:  # the wheel pip picks: the one with the best-ranked tag (cp311 manylinux before py3-none-any)
        chosen = min(fitting, key=lambda wheel: min(rank.get(tag, len(rank)) for tag in wheel))
        platform = min((tag.platform for tag in chosen if tag in rank), key=_glibc_minor)
        return "wheel (pure)" if platform == "any" else f"wheel (manylinux_2_{_glibc_minor(platform)})"
    if not sdist:
        return NONE
    platform_tags = {tag for tag in frozenset().union(*wheels) if tag.platform != "any"}
    if platform_tags and all(tag.abi == "none" for tag in platform_tags):
        return f"{NONE} (sdist ships prebuilt binaries)"
    return "sdist (builds native code)" if native or platform_tags else "sdist (pure python)"


def installed(name: str) -> bool:
    try:
        return bool(metadata.distribution(name))
    except metadata.PackageNotFoundError:
        return False


def has_compiled_code(name: str) -> bool:
    """Whether the installed distribution holds a shared library (False when it is not installed)."""
    files = metadata.files(name) if installed(name) else []
    return any(f.suffix in (".so", ".pyd") or ".so." in f.name for f in files or [])


def release_files(doc: dict, version: str) -> list[str] | None:
    """File names of that version from a project (`releases`) or a release (`urls`) document."""
    if "releases" in doc:
        files = doc["releases"].get(version)
        return None if files is None else [f["filename"] for f in files]
    return [f["filename"] for f in doc.get("urls", [])]


def _get_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise Unreachable(f"{url}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise Unreachable(f"{url}: {getattr(exc, 'reason', exc)}") from exc


def pypi_files(name: str, version: str) -> list[str] | None:
    """The release's files from PyPI; the project document when the release one is not served."""
    doc = _get_json(f"https://pypi.org/pypi/{name}/{version}/json")
    if doc is None:
        doc = _get_json(f"https://pypi.org/pypi/{name}/json")
    return None if doc is None else release_files(doc, version)


def offline_files(directory: Path, name: str, version: str) -> list[str] | None:
    """The release's files from DIR/<name>-<version>.json or DIR/<name>.json."""
    for path in (directory / f"{name}-{version}.json", directory / f"{name}.json"):
        if path.exists():
            return release_files(json.loads(path.read_text()), version)
    return None


def table(rows: list[list[str]]) -> str:
    lines = ["| package | version | " + " | ".join(TARGETS) + " |", "|---|---|" + "---|" * len(TARGETS)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", action="append", default=[], help="include this extra (repeatable)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--offline-json", type=Path, metavar="DIR", help="read PyPI JSON documents from DIR")
    parser.add_argument("--root", default=ROOT, help=argparse.SUPPRESS)  # the tests' fake project
    args = parser.parse_args(argv)

    if not installed(args.root):
        print(f"platforms: {args.root} is not installed in {sys.executable} (run scripts/setup)",
              file=sys.stderr)
        return 2
    needed = {column: closure(args.root, set(args.extra), machine) for column, machine in TARGETS.items()}
    versions = {name: version for found in needed.values() for name, version in found.items() if version}
    names = sorted(set().union(*needed.values()))
    checked = [name for name in names if name in versions]
    files_of = partial(offline_files, args.offline_json) if args.offline_json else pypi_files
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            found = pool.map(files_of, checked, [versions[name] for name in checked])
            files = dict(zip(checked, found, strict=True))
    except Unreachable as exc:
        print(f"platforms: cannot reach PyPI ({exc})", file=sys.stderr)
        return 2

    rows, failures = [], []
    for name in names:
        row = [name, versions.get(name, "?")]
        for column, machine in TARGETS.items():
            if name not in needed[column]:
                how = f"not installed on {column} (marker)"
            elif name in KNOWN:
                how = KNOWN[name][0]
            elif name not in files:
                how = f"{NONE} (not installed here, version unknown)"
            elif files[name] is None:
                how = f"{NONE} (not on PyPI)"
            else:
                how = how_it_installs(files[name], machine, has_compiled_code(name))
            if how.startswith(NONE):
                failures.append(f"{name} {row[1]} on {column}: {how}")
            row.append(how)
        rows.append(row)
    text = table(rows)
    if KNOWN:
        text += "\n" + "\n".join(f"- {name}: {reason}." for name, (_, reason) in KNOWN.items()) + "\n"
    print(text, end="")
    if args.markdown:
        args.markdown.write_text(text)
    for name in (name for name in checked if not installed(name)):
        print(f"platforms: {name} is not installed here: its own requirements were not checked",
              file=sys.stderr)
    for failure in failures:
        print(f"platforms: no install path: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
