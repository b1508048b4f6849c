"""One run of Home Assistant's pipeline for this satellite, as the box sees it (sans-IO).

The box starts a run after its wake word (``run-pipeline`` from ASR to TTS) and
streams the microphone until HA says the question is over (``transcript`` or
``voice-stopped``), or ``assist_satellite.max_stream_s`` has passed. HA then
answers: ``synthesize`` (the text), the audio (``audio-start`` … ``audio-stop``,
played and acknowledged with ``played``), or an ``error``. The run ends with one
``RunOutcome``; the events that move it are fed in by the connection's handler,
and the room awaits ``streaming_ended``, ``answer_began`` and ``finished``.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field

# HA's error codes for a question with nothing in it (2024.3: stt-no-text-recognized).
NO_SPEECH_CODES = frozenset({"stt-no-text-recognized", "stt-stream-failed", "wake-word-timeout"})


class RunOutcome(enum.StrEnum):
    ANSWERED = "answered"  # HA's answer was played (``played`` sent)
    NO_SPEECH = "no_speech"  # HA heard no question
    ERROR = "error"  # HA's pipeline failed
    TIMEOUT = "timeout"  # HA did not answer in time
    DISCONNECTED = "disconnected"  # the connection ended mid-run
    MUTED = "muted"  # HA paused the satellite mid-run


@dataclass
class RemoteRun:
    live: bool  # the microphone streams as the person speaks (satellite mode); else a recorded question
    wake_word: str | None = None
    streaming: bool = True
    transcript: str | None = None
    reply: str = ""
    error_code: str | None = None
    error_text: str | None = None
    outcome: RunOutcome | None = None
    audio_sent_s: float = 0.0
    voice_started: asyncio.Event = field(default_factory=asyncio.Event)
    streaming_ended: asyncio.Event = field(default_factory=asyncio.Event)
    answer_began: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def stop_streaming(self) -> bool:
        """True if this call ended the streaming (the caller then sends ``audio-stop``)."""
        if not self.streaming:
            return False
        self.streaming = False
        self.streaming_ended.set()
        return True

    # -- what Home Assistant says ----------------------------------------------------------------

    def on_transcript(self, text: str) -> None:
        self.transcript = text
        self.stop_streaming()

    def on_voice_started(self) -> None:
        self.voice_started.set()

    def on_voice_stopped(self) -> None:
        self.stop_streaming()

    def on_synthesize(self, text: str) -> None:
        self.reply = text
        self.answer_began.set()

    def on_answer_audio(self) -> None:
        self.stop_streaming()  # HA answers: the question is over whatever else it said
        self.answer_began.set()

    def on_played(self) -> None:
        self.finish(RunOutcome.ANSWERED)

    def on_error(self, code: str | None, text: str | None) -> None:
        self.error_code, self.error_text = code, text
        self.finish(RunOutcome.NO_SPEECH if code in NO_SPEECH_CODES else RunOutcome.ERROR)

    def finish(self, outcome: RunOutcome) -> bool:
        """End the run (the first outcome stays); False if it had ended already."""
        if self.outcome is not None:
            return False
        self.outcome = outcome
        self.stop_streaming()
        self.answer_began.set()
        self.finished.set()
        return True
