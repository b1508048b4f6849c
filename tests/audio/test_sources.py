"""Audio sources and sinks: WAV file, command pipes, WAV directory, and PortAudio on a virtual ALSA device."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from satellite.audio import Pcm, read_wav, write_wav
from satellite.audio.sinks import CommandSink, WavDirSink
from satellite.audio.sources import AudioSource, CommandSource, WavFileSource
from satellite.daemon.capture import CaptureSupervisor
from satellite.errors import AudioError
from satellite.runtime.state import RuntimeState

TIMEOUT_S = 20.0


def tone(seconds: float, rate_hz: int = 16000) -> Pcm:
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    return Pcm.from_float32(0.3 * np.sin(2 * np.pi * 440 * t), rate_hz)


async def drain(source: AudioSource) -> list[Pcm]:
    chunks = []
    await source.open()
    try:
        while (pcm := await asyncio.wait_for(source.read(), TIMEOUT_S)) is not None:
            chunks.append(pcm)
    finally:
        await source.close()
    return chunks


async def test_wav_file_source_converts_and_paces(tmp_path: Path) -> None:
    path = tmp_path / "in.wav"
    write_wav(path, tone(1.0, 22050))
    started = time.monotonic()
    chunks = await drain(WavFileSource(path, realtime=True))
    assert time.monotonic() - started >= 0.9  # played out no faster than real time
    assert all(c.rate_hz == 16000 for c in chunks)
    assert sum(c.seconds for c in chunks) == pytest.approx(1.0, abs=0.01)


async def test_wav_file_source_loops(tmp_path: Path) -> None:
    path = tmp_path / "in.wav"
    write_wav(path, tone(0.2))
    source = WavFileSource(path, realtime=False, loop=True)
    await source.open()
    total = 0.0
    while total < 1.0:
        pcm = await asyncio.wait_for(source.read(), TIMEOUT_S)
        assert pcm is not None
        total += pcm.seconds


async def test_missing_wav_is_an_audio_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError):
        await WavFileSource(tmp_path / "nope.wav").open()


async def test_command_source_reads_raw_pcm_until_the_command_ends(tmp_path: Path) -> None:
    raw = tmp_path / "in.raw"
    pcm = tone(0.5, 8000)
    raw.write_bytes(pcm.audio)
    chunks = await drain(CommandSource(f"cat {raw}", rate_hz=8000))
    assert sum(c.seconds for c in chunks) == pytest.approx(0.5, abs=0.01)
    assert all(c.rate_hz == 16000 for c in chunks)


async def test_command_source_that_cannot_start() -> None:
    with pytest.raises(AudioError):
        await CommandSource("/nonexistent/arecord").open()


async def test_command_sink_writes_each_reply_to_the_command(tmp_path: Path) -> None:
    out = tmp_path / "out.raw"
    sink = CommandSink(f"sh -c 'cat >> {out}'", rate_hz=16000)
    await sink.play(tone(0.3, 22050))
    await sink.play(tone(0.2, 22050))
    await asyncio.wait_for(sink.end_reply(), TIMEOUT_S)
    assert len(out.read_bytes()) == pytest.approx(0.5 * 16000 * 2, abs=64)


async def test_command_sink_reports_a_failing_command() -> None:
    sink = CommandSink("sh -c 'exit 3'")
    with pytest.raises(AudioError):
        await sink.play(tone(0.1))
        await asyncio.wait_for(sink.end_reply(), TIMEOUT_S)


async def test_wav_dir_sink_numbers_replies(tmp_path: Path) -> None:
    sink = WavDirSink(tmp_path / "replies")
    await sink.open()
    for seconds in (0.2, 0.3):
        await sink.play(tone(seconds, 22050))
        await sink.end_reply()
    await sink.play(tone(0.1, 22050))
    await sink.abort()  # an aborted reply is not written
    await sink.end_reply()
    names = [p.name for p in sink.written]
    assert names == ["reply-0001.wav", "reply-0002.wav"]
    assert read_wav(sink.written[1]).seconds == pytest.approx(0.3, abs=0.01)


class StallingSource(AudioSource):
    """A live device that gives some frames, then goes quiet; reopening brings it back."""

    live = True
    name = "stalling"

    def __init__(self) -> None:
        self.opens = 0
        self.reads = 0

    async def open(self) -> None:
        self.opens += 1
        if self.opens == 2:
            raise AudioError("device unplugged")
        self.reads = 0

    async def read(self) -> Pcm | None:
        self.reads += 1
        if self.reads > 3:
            await asyncio.Event().wait()  # stalled: never returns
        return tone(0.05)


async def test_stalled_mic_is_degraded_and_reopened_with_backoff() -> None:
    state = RuntimeState()
    seen: list[str] = []
    frames: list[Pcm] = []

    def on_audio(pcm: Pcm) -> None:
        frames.append(pcm)
        seen.append(state.components["mic"].state)

    source = StallingSource()
    supervisor = CaptureSupervisor(source, state, on_audio, stall_s=0.2, backoff_s=0.05)
    task = asyncio.create_task(supervisor.run())
    try:
        async with asyncio.timeout(TIMEOUT_S):
            while source.opens < 3 or len(frames) < 6:
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
    assert state.last_mic_frame_s is not None
    assert "ready" in seen
    assert supervisor.reopens >= 1
    assert state.components["mic"].state == "ready"  # it came back after the reopen


async def test_stalled_mic_reports_degraded_while_down() -> None:
    state = RuntimeState()
    source = StallingSource()
    supervisor = CaptureSupervisor(source, state, lambda pcm: None, stall_s=0.2, backoff_s=5.0)
    task = asyncio.create_task(supervisor.run())
    try:
        async with asyncio.timeout(TIMEOUT_S):
            while "mic" not in state.components or state.components["mic"].state == "ready" \
                    or source.reads < 3:
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
    assert state.components["mic"].state == "degraded"
    assert "no frames" in state.components["mic"].detail


ALSA_SCRIPT = textwrap.dedent("""
    import asyncio, json, sys
    from satellite.audio import Pcm
    from satellite.audio.sinks import SpeakerSink
    from satellite.audio.sources import MicSource
    from satellite.runtime.metrics import Metrics

    async def main():
        import sounddevice as sd
        result = {"devices": [d["name"] for d in sd.query_devices()]}
        for device in ("", "nullin", "1"):
            mic = MicSource(device, Metrics())
            await mic.open()
            frames = 0
            while frames < 16000:
                pcm = await asyncio.wait_for(mic.read(), 10)
                frames += pcm.frames
            await mic.close()
            result["mic:" + device] = frames
        speaker = SpeakerSink("nullout")
        await speaker.open()
        await speaker.play(Pcm.silence(0.5, 22050))
        await asyncio.wait_for(speaker.end_reply(), 10)
        result["played"] = True
        try:
            await MicSource("no such microphone", Metrics()).open()
        except Exception as error:
            result["missing"] = type(error).__name__
        print(json.dumps(result))

    asyncio.run(main())
""")


def test_sounddevice_capture_and_playback_through_virtual_alsa_devices(tmp_path: Path) -> None:
    (tmp_path / ".asoundrc").write_text(textwrap.dedent("""
        pcm.!default { type asym playback.pcm "nullout" capture.pcm "nullin" }
        pcm.nullout { type null }
        pcm.nullin { type null }
    """))
    env = {**os.environ, "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", ALSA_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"nullin", "nullout"} <= set(result["devices"])
    assert result["mic:"] >= 16000 and result["mic:nullin"] >= 16000 and result["mic:1"] >= 16000
    assert result["played"] is True
    assert result["missing"] == "AudioError"


ALSA_FLOOD_SCRIPT = textwrap.dedent("""
    import asyncio, json, time
    from satellite.audio.sources import MicSource
    from satellite.daemon.capture import CaptureSupervisor
    from satellite.runtime.state import RuntimeState

    async def main():
        state = RuntimeState()
        mic = MicSource("", state.metrics)
        heard = []
        supervisor = CaptureSupervisor(mic, state, lambda pcm: heard.append(pcm.seconds), stall_s=5.0)
        task = asyncio.create_task(supervisor.run())
        loop = asyncio.get_running_loop()
        started, cpu = loop.time(), time.process_time()
        while supervisor.floods == 0 and loop.time() - started < 30:
            await asyncio.sleep(0.1)
        await asyncio.sleep(3.0)
        result = {"wall_s": loop.time() - started, "cpu_s": time.process_time() - cpu,
                  "heard_s": sum(heard), "overruns": mic.overruns,
                  "mic": [state.components["mic"].state, state.components["mic"].detail],
                  "floods": state.metrics.registry.get_sample_value("satellite_audio_source_floods_total")}
        cancelled = loop.time()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=10)
        result["cancelled_in_s"] = loop.time() - cancelled if done else None
        print(json.dumps(result))

    asyncio.run(main())
""")


def test_a_microphone_with_no_clock_is_paced_reported_and_stops_at_once(tmp_path: Path) -> None:
    """ALSA's null and file plugins deliver capture as fast as they are read (hundreds of times
    real time): the daemon must neither spin on it nor hang when asked to stop."""
    (tmp_path / ".asoundrc").write_text(textwrap.dedent("""
        pcm.!default { type asym playback.pcm "nullout" capture.pcm "floodin" }
        pcm.nullout { type null }
        pcm.nullin { type null }
        pcm.floodin { type file slave.pcm "nullin" file "/dev/null" format "raw" }
    """))
    env = {**os.environ, "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", ALSA_FLOOD_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    state, detail = result["mic"]
    assert state == "degraded" and "real time (no clock?); pacing it" in detail
    assert result["floods"] == 1.0 and result["overruns"] > 0
    assert result["heard_s"] <= result["wall_s"] * 1.1 + 2.0  # paced to real time plus the burst
    assert result["cpu_s"] < 0.5 * result["wall_s"], "the process spins on the clockless device"
    assert result["cancelled_in_s"] is not None and result["cancelled_in_s"] < 5.0
