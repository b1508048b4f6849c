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
LOCAL_INTENTS = {"HassNevermind": "nevermind"}  # intent -> key of the reply in REPLIES
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
_ENGLISH = {"nevermind": "Okay.", "not_connected_action": NOT_CONNECTED_ACTION,
            "not_connected_query": NOT_CONNECTED_QUERY, "unreachable_action": UNREACHABLE_ACTION,
            "unreachable_query": UNREACHABLE_QUERY, "refused_action": REFUSED_ACTION,
            "refused_query": REFUSED_QUERY, "no_answer": NO_ANSWER}
REPLIES: dict[str, dict[str, str]] = {
    "en": _ENGLISH,
    "es": {
        "nevermind": "Vale.",
        "not_connected_action": "No puedo hacerlo: este equipo no está conectado a Home Assistant, así "
                                "que no llega a tus aparatos.",
        "not_connected_query": "No puedo comprobarlo: este equipo no está conectado a Home Assistant.",
        "unreachable_action": "Home Assistant no responde ahora mismo, así que no he podido hacerlo.",
        "unreachable_query": "Home Assistant no responde ahora mismo, así que no puedo comprobarlo.",
        "refused_action": "Home Assistant ha rechazado el token de acceso de este equipo, así que no he "
                          "podido hacerlo.",
        "refused_query": "Home Assistant ha rechazado el token de acceso de este equipo, así que no "
                         "puedo comprobarlo.",
        "no_answer": "Home Assistant no ha dado respuesta.",
    },
}


def is_query(intent: str) -> bool:
    """Questions about the home (its state, the weather) as opposed to actions on it."""
    return "Get" in intent or intent.endswith("Status")


def refusal(intent: str, reason: str | None, language: str = "en") -> str:
    """What the room hears when a home sentence cannot reach Home Assistant (pure)."""
    replies = REPLIES.get(language, _ENGLISH)
    kind = "query" if is_query(intent) else "action"
    if reason is None:
        return replies[f"not_connected_{kind}"]
    if reason == "auth":
        return replies[f"refused_{kind}"]
    return replies[f"unreachable_{kind}"]


class HomeRouter:
    def __init__(self, client: HomeAssistantClient | None, language: str = "en"):
        self.client = client
        self.language = language
        self._conversations: collections.OrderedDict[str, str] = collections.OrderedDict()

    def common_replies(self) -> tuple[str, ...]:
        """The fixed replies this room will hear most: "never mind", and without Home Assistant
        the refusals of every home command and question."""
        replies = REPLIES.get(self.language, _ENGLISH)
        missing = (replies["not_connected_action"], replies["not_connected_query"])
        return (replies["nevermind"], *(missing if self.client is None else ()))

    async def answer(self, match: IntentMatch, text: str, conversation: str) -> tuple[str, str]:
        """(reply, source) for a sentence the local recognizer says is about the home."""
        if match.name in LOCAL_INTENTS:
            return REPLIES.get(self.language, _ENGLISH)[LOCAL_INTENTS[match.name]], "local"
        if self.client is None:
            return refusal(match.name, None, self.language), "local"
        try:
            reply = await self.client.converse(text, self._conversations.get(conversation))
        except HomeAssistantError as error:
            _LOGGER.warning("home %s %r not done: %s", "question" if is_query(match.name)
                            else "command", text, error)
            return refusal(match.name, error.reason, self.language), "local"
        if conversation and reply.conversation_id:
            self._conversations[conversation] = reply.conversation_id
            self._conversations.move_to_end(conversation)
            while len(self._conversations) > MAX_CONVERSATIONS:
                self._conversations.popitem(last=False)
        return (reply.speech or REPLIES.get(self.language, _ENGLISH)["no_answer"]), "homeassistant"
