"""Sentences that speak in the home's other rooms, which home-assistant-intents does not have.

The package's English has ``HassBroadcast`` ("announce dinner is ready", "broadcast
that ..."; the ``message`` slot) but nothing that names one room, and its Spanish has no
broadcast at all. Added here, in hassil's syntax over the package's own ``area`` list and
``message`` wildcard, and merged at load time like ``timer_sentences``:

- English: "tell the kitchen (that) dinner is ready", "announce in the kitchen that ...",
  "say to the kitchen that ...";
- Spanish: "anuncia que la cena está lista", "avisa a todos que ...", "dile a la cocina que
  ...", "di en la cocina que ...".

A broadcast to one room is ``HassBroadcast`` with an ``area`` slot; the box sends it over the
home's link (``satellite.home.rooms``), not to Home Assistant.
"""

from __future__ import annotations

import copy
from typing import Any

BROADCAST = "HassBroadcast"

_SENTENCES: dict[str, list[str]] = {
    "en": [
        "tell [the] {area} [that] {message}",
        "(announce|say|broadcast) (in|to) [the] {area} [that] {message}",
    ],
    "es": [
        "(anuncia|avisa|difunde) [a todos|en toda la casa|en todas partes] que {message}",
        "(anuncia|avisa|di|dile) (en|a) [la|el] {area} que {message}",
        "(dile|dí|di) a [la|el] {area} que {message}",
    ],
}


def with_room_sentences(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of home-assistant-intents' ``data`` with the sentences above merged in (unchanged
    for a language without them)."""
    sentences = _SENTENCES.get(str(data.get("language")))
    if not sentences:
        return data
    merged = copy.deepcopy(data)
    merged.setdefault("lists", {}).setdefault("message", {"wildcard": True})
    merged.setdefault("intents", {}).setdefault(BROADCAST, {"data": []})["data"].append(
        {"sentences": list(sentences)})
    return merged
