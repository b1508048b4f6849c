"""The harness as the client's tests rely on it: a real Home Assistant, its demo home, its token."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import socket
import time
import urllib.request
import wave
from pathlib import Path

import pytest

from tests.homeassistant.harness import ApiError, HomeAssistant, StartError, UnreachableError, speech_of
from tests.homeassistant.install import default_venv_dir

KITCHEN = {"entity_id": "light.kitchen_lights"}
FRONT_DOOR = {"entity_id": "lock.front_door"}


def test_home_assistant_lives_in_its_own_venv_not_the_projects(home_assistant: HomeAssistant) -> None:
    assert importlib.util.find_spec("homeassistant") is None
    assert home_assistant.hass_bin.is_relative_to(default_venv_dir())


def test_api_answers_with_the_token_and_refuses_without(home_assistant: HomeAssistant) -> None:
    answer = home_assistant.request("GET", "/api/")
    assert (answer.status, answer.body) == (200, {"message": "API running."})
    assert home_assistant.request("GET", "/api/", anonymous=True).status == 401
    assert home_assistant.request("GET", "/api/", bearer="not-a-token").status == 401


def test_the_token_is_long_lived(home_assistant: HomeAssistant) -> None:
    payload = home_assistant.token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["exp"] - claims["iat"] > 365 * 86400  # an access token lasts 30 minutes


def test_demo_home_has_the_kitchen_lights(home_assistant: HomeAssistant) -> None:
    state = home_assistant.state("light.kitchen_lights")
    assert state["state"] in ("on", "off")
    assert state["attributes"]["friendly_name"] == "Kitchen Lights"
    with pytest.raises(ApiError) as unknown:
        home_assistant.state("light.not_in_this_home")
    assert unknown.value.status == 404


def test_asking_to_turn_on_the_light_really_turns_it_on(home_assistant: HomeAssistant) -> None:
    home_assistant.call_service("light", "turn_off", KITCHEN)
    assert home_assistant.state("light.kitchen_lights")["state"] == "off"

    reply = home_assistant.converse("turn on the kitchen lights")

    assert speech_of(reply) == "Turned on the light"
    assert reply["response"]["response_type"] == "action_done"
    assert [target["id"] for target in reply["response"]["data"]["success"]] == ["light.kitchen_lights"]
    assert home_assistant.state("light.kitchen_lights")["state"] == "on"


@pytest.mark.parametrize(("service", "answer"), [("lock", "Yes"), ("unlock", "No, Unlocked")])
def test_is_the_door_locked_is_answered_from_the_lock_state(home_assistant: HomeAssistant, service: str,
                                                            answer: str) -> None:
    try:
        home_assistant.call_service("lock", service, FRONT_DOOR)  # the demo lock takes ~2 s
        reply = home_assistant.converse("is the front door locked")
        assert reply["response"]["response_type"] == "query_answer"
        assert speech_of(reply) == answer
    finally:
        home_assistant.call_service("lock", "lock", FRONT_DOOR)


def test_a_sensor_question_is_answered_with_the_sensor_value(home_assistant: HomeAssistant) -> None:
    temperature = home_assistant.state("sensor.outside_temperature")["state"]

    reply = home_assistant.converse("what is the outside temperature")

    assert speech_of(reply) == f"Outside temperature is {temperature} °C"


@pytest.mark.parametrize(("sentence", "code", "answer"), [
    ("why is the sky blue", "no_intent_match", "Sorry, I couldn't understand that"),
    # 2024.3's wildcard sentences ("what is the {name}") take general questions for device names
    ("what is the capital of france", "no_valid_targets",
     "Sorry, I am not aware of any device called capital of france"),
])
def test_a_question_about_no_device_is_an_error_reply(home_assistant: HomeAssistant, sentence: str,
                                                       code: str, answer: str) -> None:
    """What the client sees when HA cannot help (and the satellite's own answers should take over)."""
    reply = home_assistant.converse(sentence)

    assert reply["response"]["response_type"] == "error"
    assert reply["response"]["data"]["code"] == code
    assert speech_of(reply) == answer


def test_tts_audio_comes_from_the_loopback_address_converted_by_ffmpeg(home_assistant: HomeAssistant
                                                                       ) -> None:
    answer = home_assistant.request("POST", "/api/tts_get_url", {
        "engine_id": "demo", "message": "The kitchen lights are on",
        "options": {"preferred_format": "wav", "preferred_sample_rate": 16000}})
    assert answer.status == 200, answer.body
    assert answer.body["url"].startswith(f"{home_assistant.url}/api/tts_proxy/")

    with urllib.request.urlopen(answer.body["url"], timeout=30) as audio:
        with wave.open(io.BytesIO(audio.read())) as wav:
            assert wav.getframerate() == 16000
            assert wav.getnframes() > 16000 // 2  # the demo voice says something, not nothing


def test_stop_and_start_keep_the_address_and_the_token(home_assistant: HomeAssistant) -> None:
    url, token = home_assistant.url, home_assistant.token
    try:
        assert home_assistant.stop() == 0  # a clean stop: HA has saved its auth storage
        with pytest.raises(UnreachableError):
            home_assistant.request("GET", "/api/")
    finally:
        home_assistant.start()

    assert (home_assistant.url, home_assistant.token) == (url, token)
    assert home_assistant.request("GET", "/api/").status == 200
    assert speech_of(home_assistant.converse("is the front door locked")) == "Yes"


def fake_venv(tmp_path: Path, hass_script: str) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "hass").write_text("#!/bin/sh\n" + hass_script)
    (venv / "bin" / "hass").chmod(0o755)
    return venv


def test_a_home_assistant_that_exits_while_starting_is_an_error_with_its_log(tmp_path: Path) -> None:
    ha = HomeAssistant(fake_venv(tmp_path, "echo 'Invalid config for demo' >&2; exit 3\n"),
                       tmp_path / "config", start_timeout_s=30)
    with pytest.raises(StartError) as failed:
        ha.start()
    assert "exited with code 3" in str(failed.value) and "Invalid config for demo" in str(failed.value)
    assert not ha.running


def test_a_taken_port_is_an_error_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ha = HomeAssistant(fake_venv(tmp_path, "exit 0\n"), tmp_path / "config",
                           port=taken.getsockname()[1])
        with pytest.raises(StartError, match="is taken"):
            ha.start()


def test_a_home_assistant_deaf_to_sigterm_is_killed_with_what_it_started(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    ha = HomeAssistant(fake_venv(tmp_path, f"trap '' TERM\nsleep 600 &\necho $$ $! > {pids}\nwait\n"),
                       tmp_path / "config", start_timeout_s=2, stop_timeout_s=1)
    with pytest.raises(StartError, match="took over 2 s"):
        ha.start()  # never answers HTTP; start() stops what it started

    assert not ha.running
    deadline = time.monotonic() + 10  # SIGKILL is delivered at once; init reaps the orphan soon after
    while not all(process_gone(int(pid)) for pid in pids.read_text().split()):
        assert time.monotonic() < deadline, "a process of the killed group is still alive"
        time.sleep(0.05)


def process_gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"  # a zombie: dead, not yet reaped
