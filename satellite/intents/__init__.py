"""Intent recognition (hassil + home-assistant-intents): the fast path before the LLM."""

from __future__ import annotations

from satellite.config import Config
from satellite.pipeline.turn import IntentAnswer


def intent_answer_for(config: Config) -> IntentAnswer | None:
    """The fast-path answerer for the pipeline, or None when intents are off."""
    return None
