"""Timer sentences people say that home-assistant-intents' English templates do not cover.

The shipped templates (``HassStartTimer`` and friends, read from the package's
data) know "set a timer for five minutes", "set a ten minute timer for pasta",
"add two minutes to the timer", "cancel the pasta timer" and "how much time is
left on the timer". Missing, and common at a kitchen counter:

- the name between the duration and "timer": "set a ten minute pasta timer"
  (the shipped name templates want "... timer for/named/called pasta");
- the name before "timer for": "set a pasta timer for ten minutes";
- "a minute", "an hour", "a minute and a half" ("timer_minutes" is a number
  range, so "a" is no number);
- "unpause the timer" (shipped: resume|continue); "cancel my timers".

They are written in hassil's template syntax over the package's own lists
(``timer_hours``, ``timer_minutes``, ``timer_seconds``, ``timer_half``, the
``timer_name`` wildcard) and expansion rules (``<timer_set>``,
``<timer_remove>``), and merged into its intents at load time, so recognition
stays one pure ``recognize_best`` call. The slots are the shipped ones
(``hours``/``minutes``/``seconds`` for an amount, ``name``, ``area``).

Phrases whose meaning depends on the box's state ("stop" while a timer rings,
"add two minutes" with no "timer" said) are not here: the timer package
matches them itself (``satellite.timers.matcher``).
"""

from __future__ import annotations

import copy
from typing import Any

LANGUAGE = "en"

# "a" / "an" as the number one, for "a minute", "an hour".
ONE_LIST: dict[str, Any] = {"values": [{"in": "a", "out": 1}, {"in": "an", "out": 1}]}

# A spoken duration; fills hours, minutes and seconds as the shipped templates do.
DURATION_RULE = (
    "({timer_hours:hours}( |-)hour[s] [[and] {timer_minutes:minutes}( |-)minute[s]]"
    " [[and] {timer_seconds:seconds}( |-)second[s]]"
    "|{timer_minutes:minutes}( |-)minute[s] [[and] {timer_seconds:seconds}( |-)second[s]]"
    "|{timer_seconds:seconds}( |-)second[s]"
    "|{timer_one:hours} hour [and a {timer_half:minutes}]"
    "|{timer_one:minutes} minute [and a {timer_half:seconds}]"
    "|{timer_one:seconds} second"
    "|{timer_half:minutes} an hour"
    "|{timer_half:seconds} a minute)"
)

EXPANSION_RULES: dict[str, str] = {"timer_duration": DURATION_RULE}
LISTS: dict[str, Any] = {"timer_one": ONE_LIST}

_TIMER = "[a|an|the|my]"
EXTRA_INTENTS: dict[str, Any] = {
    "HassStartTimer": {"data": [{"sentences": [
        f"<timer_set> {_TIMER} <timer_duration> {{timer_name:name}} timer",
        f"<timer_set> {_TIMER} {{timer_name:name}} timer for <timer_duration>",
        f"[<timer_set> {_TIMER}] timer for <timer_duration>",
        f"<timer_set> {_TIMER} <timer_duration> timer",
    ]}]},
    "HassIncreaseTimer": {"data": [{"sentences": [
        "add <timer_duration> to [the|my] timer",
        "add <timer_duration> to [the|my] {timer_name:name} timer",
    ]}]},
    "HassDecreaseTimer": {"data": [{"sentences": [
        "(<timer_remove>|subtract) <timer_duration> (from|off) [the|my] timer",
        "(<timer_remove>|subtract) <timer_duration> (from|off) [the|my] {timer_name:name} timer",
    ]}]},
    "HassUnpauseTimer": {"data": [{"sentences": [
        "unpause [the|my] timer",
        "unpause [the|my] {timer_name:name} timer",
    ]}]},
    "HassCancelAllTimers": {"data": [{"sentences": [
        "<timer_cancel> [the|my] timers",
        "<timer_cancel> every timer",
    ]}]},
    "HassTimerStatus": {"data": [{"sentences": [
        "how much longer [is left] (on|for) [the|my] timer[s]",
        "how much longer [is left] (on|for) [the|my] {timer_name:name} timer",
    ]}]},
}


def with_timer_sentences(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of home-assistant-intents' ``data`` for English with the sentences above merged in.

    Other languages are returned unchanged: these templates are English.
    """
    if data.get("language") != LANGUAGE:
        return data
    merged = copy.deepcopy(data)
    merged.setdefault("lists", {}).update(copy.deepcopy(LISTS))
    merged.setdefault("expansion_rules", {}).update(EXPANSION_RULES)
    intents = merged.setdefault("intents", {})
    for name, extra in EXTRA_INTENTS.items():
        intents.setdefault(name, {"data": []})["data"].extend(copy.deepcopy(extra["data"]))
    return merged
