"""Assemble a ``TurnService`` from the config and loaded engines (state DB, cache, memory, scheduler)."""

from __future__ import annotations

import functools
from typing import Any

from satellite.config.paths import resolve_state_dir
from satellite.config.schema import Config
from satellite.engines import Engines
from satellite.engines.llm_batch import BatchedLlm
from satellite.engines.stt_batch import BatchedStt
from satellite.homeassistant import HomeAssistantClient, HomeNames, read_token
from satellite.intents import recognizer_for
from satellite.pipeline.cache import ResponseCache
from satellite.pipeline.home import HomeRouter
from satellite.pipeline.memory import ConversationMemory
from satellite.pipeline.scheduler import EngineScheduler
from satellite.pipeline.service import TurnService
from satellite.pipeline.store import close_state_db, open_state_db
from satellite.remote import RemoteMonitor, WyomingIntentRecognizer
from satellite.runtime.state import RuntimeState
from satellite.timers import TimerService, TimerStore


def create_turn_service(config: Config, engines: Engines, state: RuntimeState | None = None
                        ) -> TurnService:
    conn = open_state_db(resolve_state_dir(config.state_dir))
    cache = ResponseCache(conn, config.cache, engines.llm.identity, config.llm.system_prompt)
    memory = ConversationMemory(conn, config.llm.history_turns, config.llm.history_ttl_s)
    local_voice_and_llm = not {"llm", "tts"} & set(engines.links)  # they share this box's cores
    # an engine that computes several requests together is held by as many
    capacity: dict[str, int] = {}
    if isinstance(engines.stt, BatchedStt):
        capacity["stt"] = engines.stt.max_batch
    if isinstance(engines.llm, BatchedLlm):
        capacity["llm"] = engines.llm.slots
    scheduler = EngineScheduler(config.scheduler.workers, config.scheduler.max_queue,
                                pauses_for={"llm": ("tts",)} if local_voice_and_llm else None,
                                capacity=capacity)
    if local_voice_and_llm and isinstance(engines.llm, BatchedLlm):  # its own thread decodes
        engines.llm.pause = functools.partial(scheduler.wait_while_computing, ("tts",))
    state = state if state is not None else RuntimeState()
    client = None
    if config.homeassistant.enabled:
        client = HomeAssistantClient(config.homeassistant, read_token(config.homeassistant), state,
                                     language=config.intent.language)
    links = dict(engines.links)
    recognizer: Any
    if config.intent.enabled and config.intent.uri:  # the fast path on a Wyoming intent server
        recognizer = WyomingIntentRecognizer(config.intent, config.remote.reconnect_max_s)
        links["intent"] = recognizer.link
    else:
        recognizer = recognizer_for(config)
    remotes = RemoteMonitor(links, state, config.remote, engines.fallbacks) if links else None
    turns = TurnService(config, engines, scheduler, cache, memory, recognizer=recognizer,
                        home=HomeRouter(client, config.language), state=state, remotes=remotes,
                        close_db=functools.partial(close_state_db, conn) if conn is not None else None)
    if config.timers.enabled:
        turns.timers = TimerService(config.timers, TimerStore(conn) if conn is not None else None,
                                    db=turns.db, metrics=state.metrics,
                                    language=config.intent.language)
        state.timers = turns.timers.snapshot
    if client is not None and not config.intent.uri:
        def learn_names(names: HomeNames) -> None:  # the recognizer knows the home's own names
            turns.recognizer = recognizer_for(config, names.areas, names.entities)

        client.on_names = learn_names
    return turns
