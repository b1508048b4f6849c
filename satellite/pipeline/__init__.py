"""The turn service: audio → text → answer → audio, streamed; cache, memory, scheduling."""

from satellite.pipeline.cache import ResponseCache
from satellite.pipeline.factory import create_turn_service
from satellite.pipeline.guard import ReplyGuard
from satellite.pipeline.memory import ConversationMemory
from satellite.pipeline.scheduler import EngineScheduler, Priority
from satellite.pipeline.sentences import SentenceSplitter, split_sentences
from satellite.pipeline.service import TurnService
from satellite.pipeline.turn import ReplySentence, TurnRequest, TurnResult, TurnTimings

__all__ = [
    "ConversationMemory",
    "EngineScheduler",
    "Priority",
    "ReplyGuard",
    "ReplySentence",
    "ResponseCache",
    "SentenceSplitter",
    "TurnRequest",
    "TurnResult",
    "TurnService",
    "TurnTimings",
    "create_turn_service",
    "split_sentences",
]
