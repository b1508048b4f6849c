"""Build the validated ``Config`` from defaults, a YAML file, the environment and CLI overrides.

Precedence, lowest first: defaults in code < YAML file < ``SATELLITE__SECTION__KEY``
environment variables < CLI flags. Any problem raises one ``ConfigError`` whose
message names the key path, the value and what was expected.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from satellite.config.languages import DEFAULT_LANGUAGE, LANGUAGE_CODE, language_defaults
from satellite.config.schema import Config
from satellite.config.uris import check_llm_uri, tcp_address
from satellite.errors import ConfigError
from satellite.runtime.access import parse_networks

ENV_PREFIX = "SATELLITE__"
ENV_CONFIG_PATH = "SATELLITE_CONFIG"


def load_config(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Return the configuration tree, or raise ``ConfigError``.

    ``overrides`` maps dotted keys (``"stt.beam_size"``) to values; strings are
    parsed as YAML scalars, as environment values are.
    """
    env = os.environ if env is None else env
    tree: dict[str, Any] = {}
    if path is None and env.get(ENV_CONFIG_PATH):
        path = env[ENV_CONFIG_PATH]
    if path is not None:
        tree = _read_yaml(Path(path))
    for name, raw in env.items():
        if name.startswith(ENV_PREFIX):
            dotted = name[len(ENV_PREFIX):].lower().replace("__", ".")
            _set_dotted(tree, dotted, _parse_scalar(raw), source=f"environment {name}")
    for dotted, value in (overrides or {}).items():
        _set_dotted(tree, dotted, _parse_scalar(value) if isinstance(value, str) else value,
                    source="command line")
    _apply_language_defaults(tree)
    config: Config = _build(Config, tree, prefix="")
    check_consistency(config)
    return config




def _apply_language_defaults(tree: dict[str, Any]) -> None:
    """The top-level ``language`` fills the language-dependent keys the user left unset."""
    language = tree.get("language", DEFAULT_LANGUAGE)
    if not isinstance(language, str) or not LANGUAGE_CODE.fullmatch(language):
        raise ConfigError(f"'language' = {language!r}: expected a language code such as en or es")
    for dotted, value in language_defaults(language).items():
        *sections, name = dotted.split(".")
        node = tree
        for section in sections:
            node = node.setdefault(section, {})
            if not isinstance(node, dict):
                return  # not a mapping: _build names the key
        node.setdefault(name, value)


def check_consistency(config: Config) -> None:
    """Rules that span keys; ``ConfigError`` names both keys and why."""
    if (config.assist_satellite.enabled and config.wyoming.enabled
            and config.assist_satellite.uri == config.wyoming.uri
            and not config.wyoming.uri.endswith(":0")):  # port 0: each gets a free port
        raise ConfigError(
            f"'assist_satellite.uri' and 'wyoming.uri' are both {config.wyoming.uri}: the satellite "
            "role and the provider need a port each (defaults: 10700 and 10300)")
    for key, uri in (("stt.uri", config.stt.uri), ("tts.uri", config.tts.uri),
                     ("intent.uri", config.intent.uri)):
        if uri:
            tcp_address(uri, key)
    if config.llm.uri:
        check_llm_uri(config.llm.uri)
    parse_networks(config.wyoming.allow_from, "wyoming.allow_from")
    parse_networks(config.assist_satellite.allow_from, "assist_satellite.allow_from")
    if config.home.enabled and not config.home.secret:
        raise ConfigError("'home.enabled' needs 'home.secret' (the same on every box of the home): "
                          "without it any host on the LAN could silence a room")
    for entry in config.home.peers:
        host, sep, port = entry.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ConfigError(f"home.peers: {entry!r} is not host:port")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as error:
        raise ConfigError(f"config file {path} cannot be read: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping of sections, got {_kind(data)}")
    return data


def _parse_scalar(raw: str) -> Any:
    try:
        return yaml.safe_load(raw) if raw.strip() else raw
    except yaml.YAMLError:
        return raw


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any, *, source: str) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{source}: '{dotted}' goes inside '{part}', which is not a section")
        node = child
    node[parts[-1]] = value


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"'{prefix.rstrip('.')}': expected a section (mapping), got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = f"{prefix}{unknown[0]}"
        raise ConfigError(
            f"unknown key '{key}'; expected one of: {', '.join(sorted(fields))}"
        )
    values: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = _build(hint, value, prefix=f"{key}.")
        else:
            values[name] = _check(key, value, hint, fields[name].metadata)
    return cls(**values)


def _check(key: str, value: Any, hint: Any, meta: Mapping[str, Any]) -> Any:
    value = _coerce(key, value, hint)
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise ConfigError(f"'{key}' = {value!r}: expected one of {allowed}")
    low, high = meta.get("min"), meta.get("max")
    if low is not None and value < low:
        raise ConfigError(f"'{key}' = {value!r}: expected a number >= {low}")
    if high is not None and value > high:
        raise ConfigError(f"'{key}' = {value!r}: expected a number <= {high}")
    return value


def _coerce(key: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _coerce(key, value, inner[0])
    if origin is list:
        (item_type,) = typing.get_args(hint)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(f"'{key}' = {value!r}: expected a list, got {_kind(value)}")
        return [_coerce(f"{key}[{i}]", v, item_type) for i, v in enumerate(value)]
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"'{key}' = {value!r}: expected true or false, got {_kind(value)}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"'{key}' = {value!r}: expected an integer, got {_kind(value)}")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"'{key}' = {value!r}: expected a number, got {_kind(value)}")
    if hint is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"'{key}' = {value!r}: expected text, got {_kind(value)}")
    raise ConfigError(f"'{key}': unsupported type {hint}")


def _kind(value: Any) -> str:
    return {
        bool: "a boolean", int: "an integer", float: "a number", str: "text",
        list: "a list", dict: "a mapping", type(None): "nothing",
    }.get(type(value), type(value).__name__)
