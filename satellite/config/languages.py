"""What the top-level ``language`` key changes: the defaults of the keys that depend on the language.

One key for a household (``language: es``) rather than four to keep in step.
The loader applies these as defaults, below anything the user set: an explicit
``stt.language``, ``intent.areas`` or ``llm.system_prompt`` always wins.
"""

from __future__ import annotations

import re
from typing import Any, Final

from satellite.config.schema import DEFAULT_SYSTEM_PROMPT

DEFAULT_LANGUAGE: Final = "en"
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")  # Whisper's codes: en, es, haw, yue...

SPANISH_SYSTEM_PROMPT: Final = (
    "Eres un asistente de voz amable en una casa. Responde siempre en español, con una o dos "
    "frases cortas para ser dichas en voz alta, sin listas, markdown ni emojis. No repitas las "
    "palabras del usuario. No puedes encender ni apagar aparatos ni ver su estado."
)

# Dotted key -> default, per language. Keys that follow the language code itself
# (stt.language, intent.language) are filled for every language.
LANGUAGE_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "es": {
        "llm.system_prompt": SPANISH_SYSTEM_PROMPT,
        "intent.areas": ["cocina", "salón", "dormitorio", "oficina", "baño", "garaje"],
        "intent.entities": ["luces de la cocina", "lámpara del dormitorio", "puerta principal",
                            "persianas"],
    },
}
_FOLLOWS_CODE = ("stt.language", "intent.language")
_OTHER_LANGUAGE_PROMPT = DEFAULT_SYSTEM_PROMPT + " Always reply in the language the user speaks."


def language_defaults(language: str) -> dict[str, Any]:
    """Dotted key -> default value that ``language`` implies (nothing for English)."""
    if language == DEFAULT_LANGUAGE:
        return {}
    defaults: dict[str, Any] = {key: language for key in _FOLLOWS_CODE}
    defaults.update(LANGUAGE_DEFAULTS.get(language, {"llm.system_prompt": _OTHER_LANGUAGE_PROMPT}))
    return defaults
