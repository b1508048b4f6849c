"""Intent recognition on a Wyoming intent server: ``recognize`` → ``intent`` or ``not-recognized``.

It stands where the local hassil recognizer does (the fast path before the
LLM). A server that is down or slow does not fail the turn: the question goes
on to the cache and the LLM, as an unrecognized one does, and the failure is on
the link (/status, the metric).
"""

from __future__ import annotations

import logging

from wyoming.intent import Intent, NotRecognized, Recognize

from satellite.config.schema import IntentConfig
from satellite.config.uris import tcp_address
from satellite.errors import RemoteError
from satellite.intents.recognizer import IntentMatch
from satellite.intents.responses import confirmation
from satellite.remote.link import RemoteLink
from satellite.remote.wyoming_io import Deadline, WyomingSession, describe
from satellite.remote.wyoming_probe import summary

_LOGGER = logging.getLogger(__name__)


class WyomingIntentRecognizer:
    def __init__(self, config: IntentConfig, reconnect_max_s: float = 30.0):
        self.config = config
        self.language = config.language
        self.address = tcp_address(config.uri, "intent.uri")
        self.link = RemoteLink("intent", str(self.address), self._probe, reconnect_max_s=reconnect_max_s)

    def _probe(self) -> str:
        info = describe(self.address, "intent", self.link.what, self.config.timeout_s)
        return summary(info, "intent", "intent", str(self.address))

    def recognize(self, text: str) -> IntentMatch | None:
        text = text.strip()
        if not text:
            return None
        try:
            with self.link.call():
                return self._recognize(text)
        except RemoteError as error:
            _LOGGER.info("intent not recognized remotely (%s): the question goes on", error.reason)
            return None

    def _recognize(self, text: str) -> IntentMatch | None:
        with WyomingSession(self.address, "intent", self.link.what,
                            Deadline(self.config.timeout_s)) as session:
            session.write(Recognize(text=text).event())
            while True:
                event = session.read()
                if Intent.is_type(event.type):
                    intent = Intent.from_event(event)
                    entities = {e.name: e.value for e in intent.entities}
                    reply = intent.text or confirmation(intent.name, entities)
                    return IntentMatch(intent.name, entities, text, reply)
                if NotRecognized.is_type(event.type):
                    return None
                if event.type == "error":
                    raise RemoteError(f"the {self.link.what} at {self.address} answered with an "
                                      f"error: {event.data.get('text', '')}", "intent", "refused")
