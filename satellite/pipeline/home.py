"""Home commands and questions about the home: Home Assistant does them, or the box says why not.

Routing (measured in docs/benchmarks.md): the turn service's local hassil match,
which knows the names Home Assistant gave its devices and areas, decides what
is about the home. Only those sentences go to Home Assistant's conversation
agent, which switches the device or reads its state; the room hears its answer.
Everything else stays on the box (clock, timers, cache, the local LLM), so a
general question is never sent to Home Assistant.

The box never claims an action it did not see done: without Home Assistant,
or when it is unreachable, slow or refuses the token, the answer says so,
within ``homeassistant.timeout_s``.
"""

from __future__ import annotations

import collections
import logging

from satellite.homeassistant.client import HomeAssistantClient, HomeAssistantError
from satellite.intents.recognizer import IntentMatch

_LOGGER = logging.getLogger(__name__)
LOCAL_INTENTS = {"HassNevermind": "Okay."}
# Sentences Home Assistant answered need a conversation of its own to follow up ("turn it off").
MAX_CONVERSATIONS = 100

NOT_CONNECTED_ACTION = ("I can't do that: this box isn't connected to Home Assistant, so it can't "
                        "reach your devices.")
NOT_CONNECTED_QUERY = "I can't check that: this box isn't connected to Home Assistant."
UNREACHABLE_ACTION = "Home Assistant isn't answering right now, so I couldn't do that."
UNREACHABLE_QUERY = "Home Assistant isn't answering right now, so I can't check that."
REFUSED_ACTION = "Home Assistant refused this box's access token, so I couldn't do that."
REFUSED_QUERY = "Home Assistant refused this box's access token, so I can't check that."
NO_ANSWER = "Home Assistant had no answer to that."


def is_query(intent: str) -> bool:
    """Questions about the home (its state, the weather) as opposed to actions on it."""
    return "Get" in intent or intent.endswith("Status")


def refusal(intent: str, reason: str | None) -> str:
    """What the room hears when a home sentence cannot reach Home Assistant (pure)."""
    query = is_query(intent)
    if reason is None:
        return NOT_CONNECTED_QUERY if query else NOT_CONNECTED_ACTION
    if reason == "auth":
        return REFUSED_QUERY if query else REFUSED_ACTION
    return UNREACHABLE_QUERY if query else UNREACHABLE_ACTION


class HomeRouter:
    def __init__(self, client: HomeAssistantClient | None):
        self.client = client
        self._conversations: collections.OrderedDict[str, str] = collections.OrderedDict()

    async def answer(self, match: IntentMatch, text: str, conversation: str) -> tuple[str, str]:
        """(reply, source) for a sentence the local recognizer says is about the home."""
        if match.name in LOCAL_INTENTS:
            return LOCAL_INTENTS[match.name], "local"
        if self.client is None:
            return refusal(match.name, None), "local"
        try:
            reply = await self.client.converse(text, self._conversations.get(conversation))
        except HomeAssistantError as error:
            _LOGGER.warning("home %s %r not done: %s", "question" if is_query(match.name)
                            else "command", text, error)
            return refusal(match.name, error.reason), "local"
        if conversation and reply.conversation_id:
            self._conversations[conversation] = reply.conversation_id
            self._conversations.move_to_end(conversation)
            while len(self._conversations) > MAX_CONVERSATIONS:
                self._conversations.popitem(last=False)
        return (reply.speech or NO_ANSWER), "homeassistant"
