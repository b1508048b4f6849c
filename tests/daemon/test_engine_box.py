"""One engine box for the home: a real ``satellite serve`` batching (``llm.parallel``,
``stt.batch``) and rooms whose every stage is remote on it, asking at once."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from pathlib import Path

import pytest
from wyoming.asr import Transcript as WyomingTranscript
from wyoming.client import AsyncTcpClient
from wyoming.handle import Handled, HandledStart

from satellite.audio import Pcm
from satellite.config import load_config
from satellite.engines import Engines, load_engines
from satellite.pipeline import TurnRequest, TurnResult, create_turn_service
from satellite.pipeline.scheduler import Priority
from tests.daemon.test_faults import SHUTDOWN_BOUND_S, WYOMING_AT, satellite
from tests.timeline import spoken

pytestmark = pytest.mark.slow
TIMEOUT_S = 180.0
QUESTIONS = {"What is the capital of France?": "paris",
             "What is the capital of Germany?": "berlin",
             "How many legs does a spider have?": "8"}


async def room_turn(uri: str, state_dir: Path, question: Pcm) -> TurnResult:
    """A room with every stage remote at ``uri``: the question's audio in, its answer spoken."""
    config = load_config(None, env={}, overrides={
        "state_dir": str(state_dir), "cache.enabled": False, "wake.engine": "none",
        "stt.uri": uri, "llm.uri": uri, "tts.uri": uri, "stt.timeout_s": 60, "llm.timeout_s": 60,
        "tts.timeout_s": 60})
    service = create_turn_service(config, load_engines(config))
    await service.start()
    try:
        result = None
        audio = 0.0
        request = TurnRequest("", door="mic", conversation=str(uuid.uuid4()), priority=Priority.ROOM)
        async with asyncio.timeout(TIMEOUT_S):
            async for event in service.turn(question, request):
                if isinstance(event, Pcm):
                    audio += event.seconds
                elif isinstance(event, TurnResult):
                    result = event
        assert result is not None and audio > 0.5, "the room heard no answer"
        return result
    finally:
        await service.stop()
        service.close()


async def handle_times(port: int, text: str) -> tuple[str, list[float]]:
    """Ask the box's conversation agent; the answer and when each streamed piece came."""
    client = AsyncTcpClient("127.0.0.1", port)
    await asyncio.wait_for(client.connect(), 10)
    arrivals: list[float] = []
    try:
        await client.write_event(WyomingTranscript(text=text).event())
        async with asyncio.timeout(TIMEOUT_S):
            while (event := await client.read_event()) is not None:
                if not HandledStart.is_type(event.type):  # (sent at once, before any work)
                    arrivals.append(time.monotonic())
                if Handled.is_type(event.type):
                    return Handled.from_event(event).text or "", arrivals
                assert event.type != "error", event
    finally:
        await asyncio.wait_for(client.disconnect(), 10)
    raise AssertionError("the conversation ended without an answer")


async def test_rooms_asking_at_once_each_get_their_answer_and_none_waits_for_a_long_one(
        tmp_path: Path, engines: Engines) -> None:
    clips = {text: spoken(engines, text) for text in QUESTIONS}
    args = ("--state-dir", str(tmp_path / "box"), "--set", "llm.parallel=3", "--set", "stt.batch=3",
            "--set", "cache.enabled=false", "serve", "--uri", "tcp://127.0.0.1:0", "--no-health",
            "--no-zeroconf")
    async with satellite(*args) as box:
        port = int((await box.wait_for(WYOMING_AT, TIMEOUT_S)).group(1))
        uri = f"tcp://127.0.0.1:{port}"
        # three rooms at once: every stage on the box, each its own question, its own answer
        results = await asyncio.gather(*(room_turn(uri, tmp_path / f"room-{i}", clip)
                                         for i, clip in enumerate(clips.values())))
        for (question, expected), result in zip(QUESTIONS.items(), results, strict=True):
            assert result.transcript.lower().rstrip(".?") == question.lower().rstrip(".?"), result
            assert expected in result.reply.lower(), (question, result.reply)
        # a long answer is being generated; a short question asked meanwhile is answered before
        # the long one ends (one generation at a time would make it wait for the whole story)
        story = asyncio.create_task(handle_times(port, "Tell me a long story about the sea and "
                                                       "the ships."))
        # asked just after the story: generated side by side, the short answer ends first; one
        # at a time, after the whole story (an AMD EPYC box told it in 0.64 s: asked 0.5 s
        # later, the short answer raced its end)
        await asyncio.sleep(0.1)
        answer, short_arrivals = await handle_times(port, "What is the capital of France?")
        told, story_arrivals = await story
        assert "paris" in answer.lower()
        assert len(told.split()) > 20, told
        assert short_arrivals[-1] < story_arrivals[-1], "the short answer waited for the story"
        box.process.send_signal(signal.SIGTERM)
        assert await box.exit_code(SHUTDOWN_BOUND_S + 10) == 0, box.log
    assert "parallel sequences" in box.log, box.log[-3000:]
