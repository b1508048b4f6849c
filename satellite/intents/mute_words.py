"""The privacy mute asked out loud: "stop listening", "turn off the microphone", "deja de escuchar".

Matched as whole sentences (hassil, with home-assistant-intents' skip words), like the stop
words: "I'll stop listening to the radio" is no mute. There is no spoken way back ("start
listening" cannot be heard by a microphone that is off): the box says how to turn it back on.
"""

from __future__ import annotations

from satellite.intents.stop_words import matches_whole

MUTE = "SatelliteMute"

MUTE_SENTENCES: dict[str, list[str]] = {
    "en": [
        "stop listening [to (me|us)] [now]",
        "(turn|switch) off [the|your] (microphone|mic)",
        "(turn|switch) [the|your] (microphone|mic) off",
        "(mute|disable) [the|your] (microphone|mic)",
        "mute yourself",
        "don't listen [to (me|us)] [now|anymore|any more]",
    ],
    "es": [
        "deja de (escuchar|escucharme|escucharnos) [ya|ahora]",
        "(apaga|desactiva|silencia) [el|tu] micrófono",
        "no (escuches|me escuches|nos escuches) [más]",
    ],
}

# What the box says as it mutes, and how the person turns it back on.
MUTED_REPLY = {
    "en": "Microphone off. The box's mute switch turns it back on.",
    "es": "Micrófono apagado. El interruptor de la caja lo vuelve a encender.",
}


def is_mute_request(text: str, language: str) -> bool:
    """Whether ``text`` as a whole asks the box to stop listening. Pure; a few ms."""
    return matches_whole(text.strip().rstrip(".!?"), MUTE, MUTE_SENTENCES, language)
