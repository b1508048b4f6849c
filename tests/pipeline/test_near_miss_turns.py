"""A near miss through the turn service (#18, part 8): the command it was one word from is done
or answered on the box, and the language model is never asked. Fake engines: none is on the path."""

from __future__ import annotations

from pathlib import Path

from satellite.pipeline.home import NOT_CONNECTED_ACTION
from tests.pipeline.test_service import FakeLlm, collect, fake_service, voice_turn


async def test_a_misheard_clock_question_gets_the_clock(tmp_path: Path) -> None:
    llm = FakeLlm(["Tim is a name."])
    turns, _ = fake_service(tmp_path, llm, heard="What tim is it?")
    result = (await collect(voice_turn(turns)))[-1]
    assert llm.calls == 0
    assert result.timings.source == "local" and result.reply.startswith("It's ")


async def test_a_misheard_spanish_timer_command_starts_the_timer(tmp_path: Path) -> None:
    llm = FakeLlm(["Por supuesto."])
    turns, _ = fake_service(tmp_path, llm, heard="Por un temporizador de 10 minutos.", language="es")
    assert turns.timers is not None
    result = (await collect(voice_turn(turns)))[-1]
    assert llm.calls == 0
    assert result.timings.source == "timer"
    assert [timer["duration_s"] for timer in turns.timers.snapshot()] == [600]


async def test_a_misheard_home_command_reaches_the_home_path(tmp_path: Path) -> None:
    llm = FakeLlm(["The kitchen light is a lamp."])
    turns, _ = fake_service(tmp_path, llm, heard="Turn of the kitchen lights.")
    result = (await collect(voice_turn(turns)))[-1]
    assert llm.calls == 0
    assert result.reply == NOT_CONNECTED_ACTION  # no Home Assistant here: said, not pretended


async def test_a_command_to_a_device_that_was_misheard_is_not_the_models(tmp_path: Path) -> None:
    llm = FakeLlm(["I'll be happy to help with that!"])  # what LFM2 said to it: as if done
    turns, _ = fake_service(tmp_path, llm, heard="Turn on the kitchen mites.")
    result = (await collect(voice_turn(turns)))[-1]
    assert llm.calls == 0
    assert result.reply == NOT_CONNECTED_ACTION


async def test_a_question_near_a_command_still_goes_to_the_model(tmp_path: Path) -> None:
    llm = FakeLlm(["A timer counts down."])
    turns, _ = fake_service(tmp_path, llm, heard="What is a timer?")
    result = (await collect(voice_turn(turns)))[-1]
    assert llm.calls == 1 and result.timings.source == "llm"
