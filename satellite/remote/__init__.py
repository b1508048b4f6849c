"""Remote engines: a stage served by another machine, behind the same interface as the local engine.

- ``WyomingStt`` / ``WyomingTts``: a Wyoming asr / tts server (wyoming-faster-whisper,
  wyoming-piper, Home Assistant's add-ons, another sarai-satellite's ``serve``).
- ``OpenAiChatLlm``: an OpenAI-compatible ``/v1/chat/completions`` endpoint, streamed;
  ``WyomingHandleLlm``: a Wyoming handle (conversation) server.
- ``WyomingIntentRecognizer``: a Wyoming intent server.

Each is synchronous, as the local engines are (the scheduler runs them on its
threads), and bounds every wait by its stage's ``timeout_s``. Each has a
``RemoteLink``: whether the server is up, the reconnect backoff, and the
failures counted; ``RemoteMonitor`` publishes the links on /status and /readyz
and probes a server that went away until it is back.
"""

from __future__ import annotations

from satellite.remote.fallback import FallbackLlm, FallbackStt, FallbackTts
from satellite.remote.intent import WyomingIntentRecognizer
from satellite.remote.link import RemoteLink
from satellite.remote.llm import OpenAiChatLlm, WyomingHandleLlm, read_api_key
from satellite.remote.monitor import RemoteMonitor
from satellite.remote.stt import WyomingStt
from satellite.remote.tts import WyomingTts

__all__ = [
    "FallbackLlm",
    "FallbackStt",
    "FallbackTts",
    "OpenAiChatLlm",
    "RemoteLink",
    "RemoteMonitor",
    "WyomingHandleLlm",
    "WyomingIntentRecognizer",
    "WyomingStt",
    "WyomingTts",
    "read_api_key",
]
