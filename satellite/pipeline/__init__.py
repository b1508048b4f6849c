"""The turn: audio → text → answer → audio, streamed; cache, memory, sentence splitting, scheduling."""

from satellite.pipeline.cache import ResponseCache
from satellite.pipeline.factory import create_pipeline
from satellite.pipeline.guard import ReplyGuard
from satellite.pipeline.memory import ConversationMemory
from satellite.pipeline.scheduler import EngineScheduler
from satellite.pipeline.sentences import SentenceSplitter, split_sentences
from satellite.pipeline.turn import ReplySentence, TurnResult, TurnTimings, VoicePipeline

__all__ = [
    "ConversationMemory",
    "EngineScheduler",
    "ReplyGuard",
    "ReplySentence",
    "ResponseCache",
    "SentenceSplitter",
    "TurnResult",
    "TurnTimings",
    "VoicePipeline",
    "create_pipeline",
    "split_sentences",
]
