"""Short spoken confirmations for the commands the intent fast path answers.

Why our own templates and not home-assistant-intents' responses: those are
Jinja templates rendered against live Home Assistant state (``state.domain``,
``query.matched``), which this box does not have. So each action intent gets a
plain template here; query intents (weather, state, time...) get none and fall
through to the LLM. The box itself switches nothing: over Wyoming, Home
Assistant receives the ``intent`` event and carries the action out.
"""

from __future__ import annotations

from typing import Any

_TEMPLATES: dict[str, str] = {
    "HassTurnOn": "Turning on {target}.",
    "HassTurnOff": "Turning off {target}.",
    "HassToggle": "Toggling {target}.",
    "HassLightSet": "Setting {target}.",
    "HassSetPosition": "Setting {target}.",
    "HassFanSetSpeed": "Setting the fan speed.",
    "HassClimateSetTemperature": "Setting the temperature.",
    "HassSetVolume": "Setting the volume.",
    "HassMediaPause": "Pausing.",
    "HassMediaUnpause": "Resuming.",
    "HassMediaNext": "Skipping ahead.",
    "HassMediaPrevious": "Going back.",
    "HassVacuumStart": "Starting the vacuum.",
    "HassVacuumReturnToBase": "Sending the vacuum home.",
    "HassNevermind": "Okay.",
}


def describe_target(entities: dict[str, Any]) -> str:
    """'the kitchen lights', 'the lights in the kitchen', or 'the device'."""
    name, area, domain = entities.get("name"), entities.get("area"), entities.get("domain")
    if isinstance(name, str) and name:
        return f"the {name}" if not name.lower().startswith("the ") else name
    noun = {"light": "lights", "fan": "fans", "cover": "blinds"}.get(str(domain), "devices")
    if isinstance(area, str) and area:
        return f"the {noun} in the {area}"
    return f"the {noun}" if domain else "the device"


# hassil's response key (from the matched sentence) refines the verb: "lock the door" is HassTurnOn.
_BY_RESPONSE: dict[tuple[str, str], str] = {
    ("HassTurnOn", "lock"): "Locking {target}.",
    ("HassTurnOff", "lock"): "Unlocking {target}.",
    ("HassTurnOn", "cover"): "Opening {target}.",
    ("HassTurnOff", "cover"): "Closing {target}.",
    ("HassTurnOn", "valve"): "Opening {target}.",
    ("HassTurnOff", "valve"): "Closing {target}.",
    ("HassTurnOn", "scene"): "Activating {target}.",
}


# Spanish: the verb, and the device's own name when one was said ("Encendiendo luces de la cocina.");
# an area alone would need its gender ("del salón", "de la cocina"), so the verb stands alone.
_SPANISH: dict[str, str] = {
    "HassTurnOn": "Encendiendo", "HassTurnOff": "Apagando", "HassToggle": "Cambiando",
    "HassLightSet": "Ajustando la luz", "HassSetPosition": "Ajustando la posición",
    "HassFanSetSpeed": "Ajustando el ventilador", "HassClimateSetTemperature": "Ajustando la temperatura",
    "HassSetVolume": "Ajustando el volumen", "HassMediaPause": "Pausando",
    "HassMediaUnpause": "Continuando", "HassMediaNext": "Siguiente", "HassMediaPrevious": "Anterior",
    "HassVacuumStart": "Poniendo en marcha el robot aspirador",
    "HassVacuumReturnToBase": "Mandando el robot aspirador a su base", "HassNevermind": "Vale",
}
_SPANISH_BY_RESPONSE: dict[tuple[str, str], str] = {
    ("HassTurnOn", "lock"): "Cerrando", ("HassTurnOff", "lock"): "Abriendo",
    ("HassTurnOn", "cover"): "Abriendo", ("HassTurnOff", "cover"): "Cerrando",
    ("HassTurnOn", "valve"): "Abriendo", ("HassTurnOff", "valve"): "Cerrando",
    ("HassTurnOn", "scene"): "Activando",
}
_TARGETED = {"HassTurnOn", "HassTurnOff", "HassToggle"}


def confirmation(intent: str, entities: dict[str, Any], response: str | None = None,
                 language: str = "en") -> str | None:
    """The spoken confirmation for ``intent``, or None for intents the fast path leaves to the LLM."""
    if language == "es":
        return _spanish_confirmation(intent, entities, response)
    template = _BY_RESPONSE.get((intent, response or "")) or _TEMPLATES.get(intent)
    if template is None:
        return None
    return template.format(target=describe_target(entities))


def _spanish_confirmation(intent: str, entities: dict[str, Any], response: str | None) -> str | None:
    verb = _SPANISH_BY_RESPONSE.get((intent, response or "")) or _SPANISH.get(intent)
    if verb is None:
        return None
    name = entities.get("name")
    if intent in _TARGETED and isinstance(name, str) and name:
        return f"{verb} {name}."
    return f"{verb}."
