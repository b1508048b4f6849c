"""Another sarai-satellite in ``serve`` mode as this box's remote: its intent and its conversation
(Wyoming handle, streamed) — the small box loads no language model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from satellite.daemon.app import SatelliteDaemon
from satellite.engines import Engines, load_engines
from satellite.pipeline import TurnRequest, TurnResult, create_turn_service
from satellite.remote import WyomingHandleLlm, WyomingIntentRecognizer
from tests.conftest import make_config

pytestmark = pytest.mark.slow
TIMEOUT_S = 120.0


async def answer(turns, text: str) -> TurnResult:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(TIMEOUT_S):
        async for event in turns.answer(TurnRequest(text, speak=False)):
            if isinstance(event, TurnResult):
                return event
    raise AssertionError("no result")


async def test_intent_and_conversation_from_a_satellite_serving_wyoming(tmp_path: Path,
                                                                        engines: Engines) -> None:
    server = SatelliteDaemon(make_config(tmp_path / "big", wyoming__uri="tcp://127.0.0.1:0",
                                         wyoming__zeroconf=False, health__enabled=False),
                             engines=engines, audio=False)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await server.started.wait()
        uri = f"tcp://127.0.0.1:{server.wyoming.port}"
        config = make_config(tmp_path / "small", intent__uri=uri, llm__uri=uri, llm__timeout_s=60,
                             intent__timeout_s=30, cache__enabled=False)
        small = load_engines(config, only=("llm",))
        assert isinstance(small.llm, WyomingHandleLlm) and small.load_s == {}
        turns = create_turn_service(config, small)
        assert isinstance(turns.recognizer, WyomingIntentRecognizer)
        await turns.start()
        try:
            home = await answer(turns, "turn on the kitchen lights")
            assert home.timings.source == "local" and "Home Assistant" in home.reply  # no HA there
            general = await answer(turns, "What is the capital of France?")
            assert general.timings.source == "llm" and "Paris" in general.reply
            async with asyncio.timeout(TIMEOUT_S):
                while turns.state.components.get("intent") is None \
                        or turns.state.components["intent"].state != "ready":
                    await asyncio.sleep(0.05)
            assert "ready" == turns.state.components["llm"].state
        finally:
            await turns.stop()
            turns.close()
    finally:
        server.should_exit.set()
        async with asyncio.timeout(TIMEOUT_S):
            assert await task == 0
