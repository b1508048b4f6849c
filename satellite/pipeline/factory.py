"""Assemble a ``VoicePipeline`` from the config and loaded engines (state DB, cache, memory, scheduler)."""

from __future__ import annotations

from satellite.config.paths import resolve_state_dir
from satellite.config.schema import Config
from satellite.engines import Engines
from satellite.pipeline.cache import ResponseCache
from satellite.pipeline.memory import ConversationMemory
from satellite.pipeline.scheduler import EngineScheduler
from satellite.pipeline.store import open_state_db
from satellite.pipeline.turn import IntentAnswer, VoicePipeline


def create_pipeline(config: Config, engines: Engines,
                    intent_answer: IntentAnswer | None = None) -> VoicePipeline:
    conn = open_state_db(resolve_state_dir(config.state_dir))
    cache = ResponseCache(conn, config.cache, engines.llm.identity, config.llm.system_prompt)
    memory = ConversationMemory(conn, config.llm.history_turns, config.llm.history_ttl_s)
    scheduler = EngineScheduler(config.scheduler.workers, config.scheduler.max_queue)
    return VoicePipeline(config, engines, scheduler, cache, memory, intent_answer=intent_answer,
                         state_db=conn)
