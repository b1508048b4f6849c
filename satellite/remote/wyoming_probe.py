"""What a Wyoming server says it serves, checked against what a stage needs (pure over ``info``)."""

from __future__ import annotations

from typing import Any

from satellite.errors import RemoteError


def programs(info: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The installed programs of ``kind`` (asr, tts, intent, handle) in an ``info`` event's data."""
    found = info.get(kind)
    return [p for p in found if isinstance(p, dict) and p.get("installed", True)] \
        if isinstance(found, list) else []


def summary(info: dict[str, Any], kind: str, stage: str, where: str) -> str:
    """``name version`` of the first program of ``kind``, or ``RemoteError`` when there is none."""
    found = programs(info, kind)
    if not found:
        raise RemoteError(f"the Wyoming server at {where} offers no {kind} service", stage,
                          "bad_answer")
    program = found[0]
    return " ".join(str(p) for p in (program.get("name", "?"), program.get("version")) if p)


def voice_names(info: dict[str, Any]) -> list[str]:
    return [str(v.get("name")) for program in programs(info, "tts")
            for v in program.get("voices") or [] if isinstance(v, dict) and v.get("name")]
