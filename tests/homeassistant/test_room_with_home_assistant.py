"""The room with a real Home Assistant core: what is said into ``satellite run`` switches real devices.

A microphone command plays the spoken commands (with the wake word, as the
default configuration wants it) in real time; the speaker command writes what
the room hears. Home Assistant is the real core from PyPI with its demo devices.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from satellite.audio import Pcm
from satellite.engines import Engines
from scripts.room import Room
from tests.conftest import REPO
from tests.hearing import heard_text, wer
from tests.homeassistant.harness import HomeAssistant, speech_of
from tests.timeline import spoken, timeline

pytestmark = pytest.mark.slow
RUN_TIMEOUT_S = 180.0


def run_room(tmp_path: Path, home_assistant: HomeAssistant, audio: Pcm, *extra: str
             ) -> tuple[str, Pcm]:
    """``satellite run`` on a mic command playing ``audio``; its log and what the room heard."""
    token = tmp_path / "ha-token"
    token.write_text(home_assistant.token)
    raw_out = tmp_path / "out.raw"
    mic = Room(tmp_path).mic_command(audio, [])  # in real time: ``cat`` comes all at once
    config = tmp_path / "satellite.yaml"
    config.write_text(f"homeassistant:\n  url: {home_assistant.url}\n  token_file: {token}\n"
                      f"audio:\n  chimes: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATELLITE")}
    done = subprocess.run(
        [sys.executable, "-m", "satellite", "--config", str(config), "--state-dir",
         str(tmp_path / "state"), *extra, "run", "--mic-command", mic,
         "--snd-command", f"sh -c 'cat >> {raw_out}'", "--snd-rate", "16000", "--no-wyoming",
         "--no-health"], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stderr
    assert home_assistant.token not in done.stderr  # never logged
    heard = Pcm(raw_out.read_bytes() if raw_out.exists() else b"", 16000)
    return done.stderr, heard


def test_a_spoken_command_switches_the_real_light_and_the_room_hears_home_assistant(
        tmp_path: Path, engines: Engines, home_assistant: HomeAssistant) -> None:
    home_assistant.call_service("light", "turn_off", {"entity_id": "light.kitchen_lights"})
    assert home_assistant.state("light.kitchen_lights")["state"] == "off"
    audio = timeline(0.5, spoken(engines, "Okay Nabu, turn on the kitchen lights."), 2.5).pcm
    log, heard = run_room(tmp_path, home_assistant, audio)
    assert home_assistant.state("light.kitchen_lights")["state"] == "on"  # really switched
    assert "(homeassistant)" in log and "Turned on the light" in log
    heard_as = heard_text(engines, heard)
    assert wer("Turned on the light", heard_as) <= 0.5, heard_as  # tiny.en's ear slips on a 0.9 s clip


def test_a_question_about_the_home_is_answered_from_its_state(
        tmp_path: Path, engines: Engines, home_assistant: HomeAssistant) -> None:
    home_assistant.call_service("lock", "unlock", {"entity_id": "lock.front_door"})
    expected = speech_of(home_assistant.converse("is the front door locked"))
    assert expected  # e.g. "No, Unlocked": what HA's state says
    audio = timeline(0.5, spoken(engines, "Okay Nabu, is the front door locked?"), 2.5).pcm
    log, heard = run_room(tmp_path, home_assistant, audio)
    assert f"-> {expected!r} (homeassistant)" in log  # not invented by the language model
    assert heard.seconds > 0.5  # the room heard it ("No, Unlocked": too short for tiny.en's ear)
    assert heard_text(engines, heard).lower().startswith("no")


def test_timers_work_with_home_assistant_connected(
        tmp_path: Path, engines: Engines, home_assistant: HomeAssistant) -> None:
    """Home Assistant 2024.3 has no timer intents; the box's own timers answer."""
    audio = timeline(0.5, spoken(engines, "Okay Nabu, set a timer for ten minutes."), 2.5).pcm
    log, _ = run_room(tmp_path, home_assistant, audio)
    assert "Timer set for 10 minutes." in log and "(timer)" in log


def test_without_the_wake_word_the_room_stays_quiet(
        tmp_path: Path, engines: Engines, home_assistant: HomeAssistant) -> None:
    home_assistant.call_service("light", "turn_off", {"entity_id": "light.kitchen_lights"})
    audio = timeline(0.5, spoken(engines, "Turn on the kitchen lights."), 2.5).pcm
    log, heard = run_room(tmp_path, home_assistant, audio)
    assert "turn (mic)" not in log and heard.seconds == 0.0
    assert home_assistant.state("light.kitchen_lights")["state"] == "off"


@pytest.mark.asyncio(loop_scope="session")
async def test_home_assistant_stopping_mid_session_gets_a_true_answer_then_heals(
        tmp_path: Path, engines: Engines, home_assistant: HomeAssistant) -> None:
    from satellite.config import load_config
    from satellite.pipeline import TurnRequest, TurnResult, create_turn_service
    from satellite.pipeline.home import UNREACHABLE_ACTION

    token = tmp_path / "ha-token"
    token.write_text(home_assistant.token)
    config = load_config(None, env={}, overrides={
        "state_dir": str(tmp_path / "state"), "homeassistant.url": home_assistant.url,
        "homeassistant.token_file": str(token), "homeassistant.reconnect_max_s": 2.0})
    turns = create_turn_service(config, engines)
    await turns.start()

    async def ask(text: str) -> TurnResult:
        async with asyncio.timeout(30):
            events = [e async for e in turns.answer(TurnRequest(text, door="mic", speak=False))]
        assert isinstance(events[-1], TurnResult)
        return events[-1]

    try:
        assert (await ask("turn off the kitchen lights")).timings.source == "homeassistant"
        await asyncio.to_thread(home_assistant.stop)
        down = await ask("turn on the kitchen lights")
        assert down.reply == UNREACHABLE_ACTION
        assert turns.state.components["homeassistant"].state == "degraded"
        await asyncio.to_thread(home_assistant.start)
        async with asyncio.timeout(60):
            while turns.state.components["homeassistant"].state != "ready":
                await asyncio.sleep(0.1)
        healed = await ask("turn on the kitchen lights")
        assert healed.timings.source == "homeassistant" and "turned on" in healed.reply.lower()
    finally:
        await turns.stop()
        turns.close()
