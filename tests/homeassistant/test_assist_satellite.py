"""The box as Home Assistant's Assist satellite, with a real Home Assistant core (2024.3.3).

Home Assistant adds the box twice by config flow over its REST API, as a user
does in the UI: the provider port (STT, TTS) and the satellite port, where HA
creates the satellite device and runs it. Its preferred pipeline uses the box's
own Whisper and Piper. Then "Okay Nabu, turn on the kitchen lights" is said into
``satellite run`` (a microphone command) in satellite mode: the box streams the
question to HA's pipeline, HA switches the demo light and its answer is played
through the speaker command, and the box tells HA ``played``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from satellite.audio import Pcm
from satellite.engines import Engines
from scripts.room import Room
from tests.conftest import REPO
from tests.hearing import heard_text, wer
from tests.homeassistant.harness import HomeAssistant, free_loopback_port
from tests.timeline import spoken, timeline

pytestmark = pytest.mark.slow
READY_TIMEOUT_S = 180.0
RUN_TIMEOUT_S = 120.0
POLL_S = 0.2


def story(log: str) -> str:
    """What the box heard, sent and said, from its log (a failure's message: the log's tail is
    mostly its shutdown)."""
    words = ("wake", "transcri", "assist", "Home Assistant", "run ", "played", "WARNING", "ERROR")
    return "\n".join(line for line in log.splitlines() if any(w in line for w in words))[-6000:]


def wait_for(what: str, check: Any, timeout_s: float, process: subprocess.Popen[str]) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"satellite exited ({process.returncode}) waiting for {what}:\n"
                                 f"{process.communicate(timeout=10)[1][-4000:]}")
        value = check()
        if value:
            return value
        time.sleep(POLL_S)
    raise AssertionError(f"no {what} within {timeout_s:.0f} s")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def status(health_url: str) -> dict[str, Any]:
    import json

    with urllib.request.urlopen(f"{health_url}/status", timeout=5.0) as answer:
        return dict(json.loads(answer.read()))


def wyoming_entities(ha: HomeAssistant, domain: str) -> list[str]:
    """The box's entities of ``domain`` (the demo has an STT and a TTS of its own)."""
    entities = ha.ws({"type": "config/entity_registry/list"})[0]
    return [e["entity_id"] for e in entities
            if e["platform"] == "wyoming" and e["entity_id"].startswith(f"{domain}.")]


def test_home_assistant_runs_the_box_as_its_satellite_and_the_light_turns_on(
        tmp_path: Path, engines: Engines, home_assistant: HomeAssistant) -> None:
    ha = home_assistant
    ha.call_service("light", "turn_off", {"entity_id": "light.kitchen_lights"})
    provider_port, satellite_port, health_port = (free_loopback_port() for _ in range(3))
    question = timeline(0.5, spoken(engines, "Okay Nabu, turn on the kitchen lights."), 5.0).pcm
    raw_out, go = tmp_path / "out.raw", tmp_path / "GO"
    # A microphone in real time: silence until the test says go, then the spoken question. The
    # box must be running before Home Assistant can add it, and HA must run it before it is
    # spoken to.
    room = Room(tmp_path)
    mic = room.mic_command(question, [], go)
    config = tmp_path / "satellite.yaml"
    config.write_text(
        f"wyoming:\n  uri: tcp://127.0.0.1:{provider_port}\n  zeroconf: false\n"
        f"assist_satellite:\n  mode: satellite\n  uri: tcp://127.0.0.1:{satellite_port}\n"
        f"  zeroconf: false\n  name: Kitchen satellite\n"
        f"health:\n  port: {health_port}\naudio:\n  chimes: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATELLITE")}
    process = subprocess.Popen(
        [sys.executable, "-m", "satellite", "--config", str(config), "--state-dir",
         str(tmp_path / "state"), "run", "--mic-command", mic,
         "--snd-command", f"sh -c 'cat >> {raw_out}'", "--snd-rate", "16000"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL)
    health = f"http://127.0.0.1:{health_port}"
    try:
        wait_for("readiness", lambda: http_ok(f"{health}/readyz"), READY_TIMEOUT_S, process)
        provider = ha.config_flow("wyoming", {"host": "127.0.0.1", "port": provider_port})
        satellite = ha.config_flow("wyoming", {"host": "127.0.0.1", "port": satellite_port})
        assert provider["type"] == "create_entry" and satellite["type"] == "create_entry"
        assert satellite["title"] == "Kitchen satellite"
        devices = ha.ws({"type": "config/device_registry/list"})[0]
        assert any(d["name"] == "Kitchen satellite" for d in devices)  # HA made the satellite device
        stt = wait_for("the box's STT entity", lambda: wyoming_entities(ha, "stt"), 30.0, process)[0]
        tts = wait_for("the box's TTS entity", lambda: wyoming_entities(ha, "tts"), 30.0, process)[0]
        pipeline = ha.ws({
            "type": "assist_pipeline/pipeline/create", "name": "Sarai", "language": "en",
            "conversation_engine": "homeassistant", "conversation_language": "en",
            "stt_engine": stt, "stt_language": "en", "tts_engine": tts,
            "tts_language": engines.tts.voice.language, "tts_voice": None,
            "wake_word_entity": None, "wake_word_id": None})[0]
        ha.ws({"type": "assist_pipeline/pipeline/set_preferred", "pipeline_id": pipeline["id"]})
        wait_for("Home Assistant running the satellite",
                 lambda: (status(health)["assist_satellite"] or {}).get("running"), 60.0, process)
        go.touch()
        _, log = process.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert process.returncode == 0, log[-4000:]
    assert ha.state("light.kitchen_lights")["state"] == "on", story(log)  # HA's pipeline did it
    assert "streaming the question to Home Assistant" in log
    assert "'played' sent to Home Assistant" in log
    assert "run ended: answered" in log
    heard = Pcm(raw_out.read_bytes() if raw_out.exists() else b"", 16000)
    assert heard.seconds > 0.5
    heard_as = heard_text(engines, heard)
    (tmp_path / "daemon.log").write_text(log)
    assert wer("Turned on the light", heard_as) <= 0.5, f"{heard_as!r}; log: {tmp_path / 'daemon.log'}"


def test_a_satellite_that_another_box_outheard_never_starts_home_assistants_pipeline(
        tmp_path: Path, engines: Engines, home_assistant: HomeAssistant) -> None:
    """Two boxes of one home hear "Okay Nabu": the hall's is Home Assistant's satellite, the
    kitchen's answers itself and hears the person 12 dB louder. The hall yields: no
    ``run-pipeline`` reaches Home Assistant, and the light Home Assistant would switch stays off."""
    from tests.home.test_two_boxes import free_udp_port, heard_at

    ha = home_assistant
    ha.call_service("light", "turn_off", {"entity_id": "light.kitchen_lights"})
    provider_port, satellite_port, health_port = (free_loopback_port() for _ in range(3))
    home_ports = {"hall": free_udp_port(), "kitchen": free_udp_port()}
    question = timeline(0.5, spoken(engines, "Okay Nabu, turn on the kitchen lights."), 5.0).pcm
    go = tmp_path / "GO"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATELLITE")}

    def home(box: str) -> list[str]:
        peer = next(port for other, port in home_ports.items() if other != box)
        return ["--set", "home.enabled=true", "--set", "home.secret=s3cret", "--set", f"home.box={box}",
                "--set", "home.host=127.0.0.1", "--set", f"home.port={home_ports[box]}",
                "--set", f"home.peers=['127.0.0.1:{peer}']", "--set", "home.zeroconf=false"]

    (tmp_path / "hall").mkdir()
    (tmp_path / "kitchen").mkdir()
    config = tmp_path / "hall" / "satellite.yaml"
    config.write_text(
        f"wyoming:\n  uri: tcp://127.0.0.1:{provider_port}\n  zeroconf: false\n"
        f"assist_satellite:\n  mode: satellite\n  uri: tcp://127.0.0.1:{satellite_port}\n"
        f"  zeroconf: false\n  name: Hall satellite\n"
        f"health:\n  port: {health_port}\naudio:\n  chimes: false\n")
    hall = subprocess.Popen(
        [sys.executable, "-m", "satellite", "--config", str(config), "--state-dir",
         str(tmp_path / "hall" / "state"), *home("hall"), "run", "--output", "none",
         "--mic-command", Room(tmp_path / "hall").mic_command(heard_at(question, -12.0), [], go)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL)
    kitchen = subprocess.Popen(
        [sys.executable, "-m", "satellite", "--state-dir", str(tmp_path / "kitchen" / "state"),
         *home("kitchen"), "--set", "assist_satellite.mode=local", "run", "--output", "none",
         "--no-wyoming", "--no-health",
         "--mic-command", Room(tmp_path / "kitchen").mic_command(heard_at(question, 0.0), [], go)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL)
    health = f"http://127.0.0.1:{health_port}"
    try:
        wait_for("readiness", lambda: http_ok(f"{health}/readyz"), READY_TIMEOUT_S, hall)
        provider = ha.config_flow("wyoming", {"host": "127.0.0.1", "port": provider_port})
        satellite = ha.config_flow("wyoming", {"host": "127.0.0.1", "port": satellite_port})
        assert provider["type"] == "create_entry" and satellite["type"] == "create_entry"
        wait_for("Home Assistant running the satellite",
                 lambda: (status(health)["assist_satellite"] or {}).get("running"), 60.0, hall)
        wait_for("the kitchen's peer heard", lambda: any(
            p["box"] == "kitchen" for p in (status(health)["home"] or {}).get("peers", [])), 60.0, hall)
        go.touch()
        _, kitchen_log = kitchen.communicate(timeout=RUN_TIMEOUT_S)
        _, hall_log = hall.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        for process in (hall, kitchen):
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=30)
    assert hall.returncode == 0 and kitchen.returncode == 0, hall_log[-3000:] + kitchen_log[-3000:]
    assert "home: the wake word, claimed to 1 peer(s): kitchen answers" in hall_log, story(hall_log)
    assert "streaming the question to Home Assistant" not in hall_log, story(hall_log)
    assert re.search(r"turn \(mic\): 'turn on the kitchen lights", kitchen_log, re.I), story(kitchen_log)
    assert ha.state("light.kitchen_lights")["state"] == "off"  # HA's pipeline never ran
