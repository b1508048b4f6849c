"""A whole mic turn with every stage on a remote server, and what the room hears when one is down."""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from satellite.audio import Pcm
from satellite.daemon.app import SatelliteDaemon
from satellite.engines import NotLoaded
from satellite.pipeline.service import NO_ANSWER
from satellite.remote import OpenAiChatLlm, WyomingStt, WyomingTts
from tests.remote.servers import ServerProcess, free_port, llama_server
from tests.remote.test_real_servers import remote_config
from tests.timeline import dev_clip, timeline

pytestmark = pytest.mark.slow
TIMEOUT_S = 120.0


def mic_and_speaker(tmp_path: Path, clip: str) -> tuple[dict[str, object], Path]:
    raw_in = tmp_path / "in.raw"
    raw_in.write_bytes(timeline(0.5, dev_clip(clip), 1.0).pcm.audio)
    raw_out = tmp_path / "out.raw"
    return ({"audio__input": "command", "audio__mic_command": f"cat {raw_in}",
             "audio__output": "command", "audio__snd_command": f"sh -c 'cat >> {raw_out}'",
             "audio__snd_rate_hz": 16000, "audio__input_realtime": False,
             "wyoming__enabled": False, "health__enabled": False}, raw_out)


def heard(whisper: ServerProcess, tmp_path: Path, raw: Path) -> str:
    """What the room heard, transcribed by the Whisper server."""
    stt = WyomingStt(remote_config(tmp_path, whisper=whisper).stt)
    return stt.transcribe(Pcm(raw.read_bytes(), 16000)).text.lower()


async def test_a_mic_turn_with_every_stage_remote_loads_no_model(
        tmp_path: Path, whisper: ServerProcess, llama: ServerProcess, piper: ServerProcess) -> None:
    audio, raw_out = mic_and_speaker(tmp_path, "syn_29a.wav")  # "what is the population of tokyo"
    daemon = SatelliteDaemon(remote_config(tmp_path, whisper, llama, piper, **audio))
    async with asyncio.timeout(TIMEOUT_S):
        assert await daemon.serve() == 0  # the mic command ends: end of input
    engines = daemon.engines
    assert engines is not None and engines.load_s == {}  # no model was loaded
    assert isinstance(engines.stt, WyomingStt) and isinstance(engines.llm, OpenAiChatLlm)
    assert isinstance(engines.tts, WyomingTts)
    (turn,) = daemon.state.turns
    assert {"population", "tokyo"} <= set(turn.transcript.lower().strip("?.").split())
    assert turn.source == "llm" and turn.reply and turn.reply != NO_ANSWER
    assert raw_out.stat().st_size > 16000 * 2 * 0.5  # the reply was played
    reply_words = {w.strip(".,!?'").lower() for w in turn.reply.split()} - {""}
    said = set(heard(whisper, tmp_path, raw_out).replace(".", " ").replace(",", " ").split())
    assert len(reply_words & said) >= len(reply_words) // 2, (turn.reply, said)


async def test_the_room_hears_which_server_is_down_and_the_llm_comes_back(
        tmp_path: Path, whisper: ServerProcess, piper: ServerProcess) -> None:
    port = free_port()  # nothing listens here yet
    audio, raw_out = mic_and_speaker(tmp_path, "syn_29a.wav")
    config = remote_config(tmp_path, whisper, None, piper, llm__uri=f"http://127.0.0.1:{port}/v1",
                           llm__timeout_s=3.0, remote__reconnect_max_s=2.0, **audio)
    daemon = SatelliteDaemon(config)
    async with asyncio.timeout(TIMEOUT_S):
        assert await daemon.serve() == 0
    assert not daemon.state.turns  # the turn failed ...
    assert "language model server" in heard(whisper, tmp_path, raw_out)  # ... and the room was told
    metrics = daemon.state.metrics.registry
    assert metrics.get_sample_value("satellite_remote_failures_total",
                                    {"stage": "llm", "reason": "unreachable"}) >= 1
    assert metrics.get_sample_value("satellite_errors_total", {"kind": "remote"}) == 1

    # serve: /readyz says what is down; the LLM server starts; the box reconnects by itself.
    serve = remote_config(tmp_path, whisper, None, piper, llm__uri=f"http://127.0.0.1:{port}/v1",
                          remote__reconnect_max_s=2.0, audio__input="none", audio__output="none",
                          wyoming__enabled=False, health__port=0)
    daemon = SatelliteDaemon(serve)
    task = asyncio.create_task(daemon.serve())
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await daemon.started.wait()
            while (daemon.state.components["llm"].state != "degraded"
                   or daemon.state.components["stt"].state != "ready"):  # each probe in its time
                await asyncio.sleep(0.05)
        status, body = await asyncio.to_thread(get, f"http://127.0.0.1:{daemon.health.port}/readyz")
        assert status == 503 and any(r.startswith("llm: degraded") for r in body["reasons"])
        with contextlib.ExitStack() as servers:
            # started off the event loop: the daemon keeps serving (and probing) meanwhile
            await asyncio.to_thread(servers.enter_context, llama_server(tmp_path / "llama.log", port))
            async with asyncio.timeout(TIMEOUT_S):
                while daemon.state.components["llm"].state != "ready":
                    await asyncio.sleep(0.05)
            status, body = await asyncio.to_thread(get, f"http://127.0.0.1:{daemon.health.port}/readyz")
            assert status == 200, body
            await asyncio.to_thread(servers.close)
    finally:
        daemon.should_exit.set()
        async with asyncio.timeout(TIMEOUT_S):
            assert await task == 0


async def test_with_a_local_fallback_the_room_gets_an_answer_while_the_llm_server_is_down(
        tmp_path: Path, whisper: ServerProcess, piper: ServerProcess) -> None:
    audio, raw_out = mic_and_speaker(tmp_path, "syn_29a.wav")
    config = remote_config(tmp_path, whisper, None, piper,
                           llm__uri=f"http://127.0.0.1:{free_port()}/v1", llm__fallback_local=True,
                           **audio)
    daemon = SatelliteDaemon(config)
    async with asyncio.timeout(TIMEOUT_S):
        assert await daemon.serve() == 0
    assert daemon.engines is not None and set(daemon.engines.load_s) == {"llm"}  # only the GGUF
    assert isinstance(daemon.engines.stt, WyomingStt) and not isinstance(daemon.engines.llm, NotLoaded)
    (turn,) = daemon.state.turns
    assert turn.source == "llm" and turn.reply and turn.reply != NO_ANSWER
    assert "server" not in heard(whisper, tmp_path, raw_out)
    assert daemon.state.metrics.registry.get_sample_value(
        "satellite_remote_failures_total", {"stage": "llm", "reason": "unreachable"}) >= 1


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
