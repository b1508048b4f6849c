"""Sinks never hold a turn: a speaker command or device that hangs is killed or dropped within a bound."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from satellite.audio import Pcm, PcmConverter
from satellite.audio.device_thread import DeviceThread, DeviceTimeout
from satellite.audio.sinks import CommandSink, SpeakerSink
from satellite.errors import AudioError

TIMEOUT_S = 20.0


def tone(seconds: float, rate_hz: int = 16000, hz: float = 440.0) -> Pcm:
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    return Pcm.from_float32(0.3 * np.sin(2 * np.pi * hz * t), rate_hz)


def gone(pid: int) -> bool:
    """No such process, or a zombie nobody reaped yet (a killed orphan in a container)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def soon_gone(pid: int) -> bool:
    """A SIGKILL is delivered when the process next runs: on a loaded machine, a moment later."""
    deadline = time.monotonic() + TIMEOUT_S
    while not gone(pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return gone(pid)


async def read_pid(path: Path) -> int:
    async with asyncio.timeout(TIMEOUT_S):
        while not path.exists() or not path.read_text().strip():
            await asyncio.sleep(0.02)
    return int(path.read_text())


async def test_a_snd_command_that_never_reads_is_killed_and_the_play_fails(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    sink = CommandSink(f"sh -c 'sleep 600 & echo $! > {pid_file}; wait'", timeout_s=0.5)
    audio = tone(2.0, 48000)  # 192 KB: more than the pipe and the transport buffer hold
    started = time.monotonic()
    with pytest.raises(AudioError, match=r"did not accept audio within 2\.5 s; killed"):
        async with asyncio.timeout(TIMEOUT_S):
            await sink.play(audio)
    assert time.monotonic() - started < TIMEOUT_S
    sleeper = await read_pid(pid_file)
    assert await soon_gone(sleeper), "the command's own children are killed too"
    await asyncio.wait_for(sink.end_reply(), TIMEOUT_S)  # nothing left to end


async def test_a_snd_command_that_never_exits_is_killed_at_end_of_reply(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    sink = CommandSink(f"sh -c 'echo $$ > {pid_file}; cat > /dev/null; sleep 600'", timeout_s=0.5)
    async with asyncio.timeout(TIMEOUT_S):
        await sink.play(tone(0.3))
    shell = await read_pid(pid_file)
    with pytest.raises(AudioError, match=r"did not play audio within .* s; killed"):
        async with asyncio.timeout(TIMEOUT_S):
            await sink.end_reply()
    assert gone(shell)
    # the next reply starts a fresh command
    pid_file.unlink()
    async with asyncio.timeout(TIMEOUT_S):
        await sink.play(tone(0.1))
    assert await read_pid(pid_file) != shell
    await asyncio.wait_for(sink.abort(), TIMEOUT_S)


async def test_end_of_reply_waits_for_a_real_time_player(tmp_path: Path) -> None:
    """A player that takes audio at playback speed is not mistaken for a hung one."""
    out = tmp_path / "out.raw"
    player = textwrap.dedent(f"""
        import sys, time
        data = sys.stdin.buffer.read()
        time.sleep(len(data) / 32000)
        open("{out}", "wb").write(data)
    """).strip()
    sink = CommandSink(f"{sys.executable} -c '{player}'", timeout_s=1.0)
    audio = tone(2.0)
    async with asyncio.timeout(TIMEOUT_S):
        await sink.play(audio)
        await sink.end_reply()
    assert out.read_bytes() == audio.audio


async def test_a_cat_command_receives_every_byte_of_every_reply(tmp_path: Path) -> None:
    out = tmp_path / "out.raw"
    sink = CommandSink(f"sh -c 'cat >> {out}'")
    blocks = [tone(0.05), tone(1.5, hz=330), tone(0.2, hz=550)]
    async with asyncio.timeout(TIMEOUT_S):
        for _ in range(2):  # two replies, two processes
            for block in blocks:
                await sink.play(block)
            await sink.end_reply()
    assert out.read_bytes() == b"".join(b.audio for b in blocks) * 2


async def test_converted_replies_match_a_conversion_done_in_one_go(tmp_path: Path) -> None:
    """Large blocks are resampled on a worker thread: still in order, with the resampler's state."""
    out = tmp_path / "out.raw"
    sink = CommandSink(f"sh -c 'cat >> {out}'", rate_hz=16000)
    # (the first long enough that the player is not fed silence while the next is converted)
    blocks = [tone(0.5, 22050), tone(0.1, 22050, hz=440), tone(1.0, 22050, hz=330),
              tone(0.6, 22050, hz=550)]
    async with asyncio.timeout(TIMEOUT_S):
        for block in blocks:
            await sink.play(block)
        await sink.end_reply()
    reference = PcmConverter(16000)
    assert out.read_bytes() == b"".join(reference.convert(b).audio for b in blocks)


async def test_abort_kills_the_player_at_once(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    sink = CommandSink(f"sh -c 'echo $$ > {pid_file}; cat > /dev/null; sleep 600'")
    async with asyncio.timeout(TIMEOUT_S):
        await sink.play(tone(0.3))
        shell = await read_pid(pid_file)
        await sink.abort()
    assert gone(shell)


async def test_a_cancelled_end_of_reply_kills_the_player(tmp_path: Path) -> None:
    """Barge-in cancels the turn while it waits for the reply to play out."""
    pid_file = tmp_path / "pid"
    sink = CommandSink(f"sh -c 'echo $$ > {pid_file}; cat > /dev/null; sleep 600'", timeout_s=30.0)
    await asyncio.wait_for(sink.play(tone(0.3)), TIMEOUT_S)
    shell = await read_pid(pid_file)
    ending = asyncio.create_task(sink.end_reply())
    await asyncio.sleep(0.2)
    ending.cancel()
    done, _ = await asyncio.wait({ending}, timeout=TIMEOUT_S)
    assert done and ending.cancelled()
    assert await soon_gone(shell)
    await sink.close()


async def test_a_reply_stopped_while_it_plays_out_is_cut_from_the_reference(tmp_path: Path) -> None:
    """The echo canceller hears when the player is killed at a barge-in, wherever the turn was
    cancelled (here: waiting for the reply to play out), and the next reply's player is ready."""
    pid_file = tmp_path / "pid"
    sink = CommandSink(f"sh -c 'echo $$ > {pid_file}; cat > /dev/null; sleep 600'", timeout_s=30.0)
    played: list[float] = []
    cuts: list[float] = []
    sink.watch(lambda pcm, start_s: played.append(start_s), cuts.append)
    await asyncio.wait_for(sink.open(), TIMEOUT_S)
    await asyncio.wait_for(sink.play(tone(0.3)), TIMEOUT_S)
    shell = await read_pid(pid_file)
    pid_file.unlink()
    ending = asyncio.create_task(sink.end_reply())
    await asyncio.sleep(0.2)
    before = time.monotonic()
    ending.cancel()
    await asyncio.wait({ending}, timeout=TIMEOUT_S)
    assert played and len(cuts) == 1 and before <= cuts[0] <= time.monotonic()
    assert await soon_gone(shell)
    following = await read_pid(pid_file)  # the next reply's player, started ahead
    assert following != shell and not gone(following)
    await sink.close()
    assert await soon_gone(following)


class FakeStream:
    """A PortAudio stream whose ``write`` or ``stop`` can hang like a wedged device."""

    def __init__(self, hang_on: str, release: threading.Event) -> None:
        self.hang_on = hang_on
        self.release = release
        self.written = 0
        self.closed = False

    def _maybe_hang(self, call: str) -> None:
        if call == self.hang_on:
            self.release.wait()

    def write(self, block: bytes) -> bool:
        self._maybe_hang("write")
        self.written += len(block)
        return False

    def stop(self) -> None:
        self._maybe_hang("stop")

    def abort(self) -> None:
        self._maybe_hang("abort")

    def close(self) -> None:
        self.closed = True


class FakeDeviceSpeaker(SpeakerSink):
    """The real SpeakerSink with the PortAudio stream replaced; each open hands out the next stream."""

    def __init__(self, streams: list[FakeStream], timeout_s: float) -> None:
        super().__init__("fake", timeout_s)
        self.streams = streams
        self.opened: list[FakeStream] = []

    def _open_stream(self, rate_hz: int) -> Any:
        stream = self.streams[len(self.opened)]
        self.opened.append(stream)
        return stream


@pytest.fixture
def release() -> Any:
    event = threading.Event()
    yield event
    event.set()  # let the stuck device threads end


@pytest.mark.parametrize("hang_on", ["write", "stop"])
async def test_a_wedged_speaker_fails_the_reply_and_the_next_reply_reopens_it(
        hang_on: str, release: threading.Event) -> None:
    first, second = FakeStream(hang_on, release), FakeStream("", release)
    sink = FakeDeviceSpeaker([first, second], timeout_s=0.3)
    with pytest.raises(AudioError, match="stream abandoned, the next reply reopens it"):
        async with asyncio.timeout(TIMEOUT_S):
            await sink.play(tone(0.5))
            await sink.end_reply()
    async with asyncio.timeout(TIMEOUT_S):
        await sink.play(tone(0.5))
        await sink.end_reply()
        await sink.close()
    assert sink.opened == [first, second]
    assert second.written == len(tone(0.5).audio) and second.closed


async def test_a_wedged_speaker_cannot_hold_abort_or_close(release: threading.Event) -> None:
    sink = FakeDeviceSpeaker([FakeStream("abort", release)], timeout_s=0.3)
    async with asyncio.timeout(TIMEOUT_S):
        await sink.play(tone(0.2))
        with pytest.raises(AudioError):
            await sink.abort()
        await sink.close()  # nothing left open: returns at once


async def test_device_thread_bounds_each_call(release: threading.Event) -> None:
    thread = DeviceThread("test device")
    assert await thread.call(1.0, sum, [1, 2, 3]) == 6
    with pytest.raises(ZeroDivisionError):
        await thread.call(1.0, lambda: 1 / 0)
    with pytest.raises(DeviceTimeout):
        await thread.call(0.2, release.wait)
    assert thread.stuck
    with pytest.raises(DeviceTimeout, match="stuck"):
        await thread.call(1.0, sum, [1])


def test_a_stuck_device_thread_does_not_hold_the_process_at_exit() -> None:
    script = textwrap.dedent("""
        import asyncio, threading
        from satellite.audio.device_thread import DeviceThread, DeviceTimeout

        async def main():
            try:
                await DeviceThread("wedged").call(0.2, threading.Event().wait)
            except DeviceTimeout:
                print("timed out")

        asyncio.run(main())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "timed out"


async def test_the_next_replys_command_is_started_ahead_and_closed_with_the_sink(
        tmp_path: Path) -> None:
    starts, out = tmp_path / "starts", tmp_path / "out.raw"
    sink = CommandSink(f"sh -c 'echo start >> {starts}; cat >> {out}'")
    async with asyncio.timeout(TIMEOUT_S):
        await sink.open()  # the first reply's player is ready before the first reply
        while not starts.exists():
            await asyncio.sleep(0.01)
        reply = tone(0.3)
        await sink.play(reply)
        assert sink.first_sound_s is not None and sink.first_sound_s <= time.monotonic()
        await sink.end_reply()  # ... and the next one's right after
        while starts.read_text().count("start") < 2:
            await asyncio.sleep(0.01)
        ready = sink._ready  # noqa: SLF001 - the process waiting for the next reply
        assert ready is not None and ready.returncode is None
        await sink.close()
        assert ready.returncode is not None  # not left behind
    assert out.read_bytes() == reply.audio
    assert starts.read_text().count("start") == 2


@pytest.mark.parametrize("starts_after_s", [0.0, 0.3])
async def test_a_reply_sounds_from_when_its_player_starts_reading(starts_after_s: float) -> None:
    """The echo canceller's reference: a player still starting reads (and sounds) later than
    the reply was written to it, and the sink reports when it read."""
    sink = CommandSink(f"sh -c 'sleep {starts_after_s}; exec cat > /dev/null'", timeout_s=10.0)
    starts: list[float] = []
    sink.watch(lambda pcm, start_s: starts.append(start_s))
    written_s = time.monotonic()
    async with asyncio.timeout(TIMEOUT_S):
        await sink.play(tone(0.5))
        await sink.play(tone(0.5))
        await sink.end_reply()
    assert starts[0] >= written_s + starts_after_s
    assert starts[0] < written_s + starts_after_s + 0.25
    assert starts[1] == pytest.approx(starts[0] + 0.5)
    assert sink.first_sound_s == starts[0]
    await sink.close()


async def test_each_reply_reports_its_new_player_before_its_first_block() -> None:
    """The echo canceller's cue that a player's lateness is over: one per reply's process."""
    sink = CommandSink("sh -c 'exec cat > /dev/null'", timeout_s=10.0)
    events: list[str] = []
    sink.watch(lambda pcm, start_s: events.append("block"), None, lambda: events.append("player"))
    async with asyncio.timeout(TIMEOUT_S):
        for _ in range(2):
            await sink.play(tone(0.2))
            await sink.play(tone(0.2))
            await sink.end_reply()
    assert events == ["player", "block", "block"] * 2
    await sink.close()


async def test_between_sentences_the_player_is_fed_silence_on_the_sinks_clock(tmp_path: Path) -> None:
    """A sentence that comes after the last one has played out: the player was kept fed
    (it never holds a partial read), and the sink's clock says where the sentence sounds in
    the bytes the player got."""
    out = tmp_path / "out.raw"
    sink = CommandSink(f"sh -c 'exec cat >> {out}'", timeout_s=10.0)  # (the next player appends)
    starts: list[float] = []
    sink.watch(lambda pcm, start_s: starts.append(start_s))
    async with asyncio.timeout(TIMEOUT_S):
        await sink.play(tone(0.2))
        await asyncio.sleep(0.8)  # the next sentence is late
        await sink.play(tone(0.2, hz=880.0))
        await sink.end_reply()
    received = np.frombuffer(out.read_bytes(), dtype=np.int16)
    second_at = int(np.nonzero(np.abs(received[int(0.2 * 16000):]) > 0)[0][0]) + int(0.2 * 16000)
    assert second_at / 16000 >= 0.2 + 0.5  # silence in between, written as it went
    assert starts[1] - starts[0] == pytest.approx(second_at / 16000, abs=0.002)
    await sink.close()
