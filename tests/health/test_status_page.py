"""The status page rendered by a real browser (Debian's headless Chromium) from a live server.

The page draws itself from /status with JavaScript, so the test reads the DOM
Chromium built (--dump-dom) and decodes the screenshot it took: the health
badge and the latency bars must be on screen, in their colours. The screenshot
is kept (in $SATELLITE_ARTIFACTS_DIR when set, else the test's tmp dir).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from satellite.health import HealthServer
from satellite.runtime import RuntimeState
from tests.conftest import make_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/setup --test)"),
    pytest.mark.asyncio(loop_scope="session"),
]
GREEN_BADGE = (0x1A, 0x7F, 0x37)
BLUE_BAR = (0x3B, 0x6F, 0xD6)
RED_BAR = (0xC6, 0x28, 0x28)
REPLY_MS = [420.0, 610.0, 980.0, 530.0, 700.0, 1250.0, 480.0, 560.0]


def healthy_state() -> RuntimeState:
    state = RuntimeState()
    for name in ("stt", "llm", "tts", "wyoming", "mic", "speaker"):
        state.set_component(name, "ready")
    state.models.update(stt="tiny.en", llm="SmolLM2-135M-Instruct.Q4_1.gguf",
                        tts="en_US-joe-medium")
    state.model_load_s.update(stt=0.62, llm=0.31, tts=0.44)
    state.audio_devices.update(input="hw:1,0 (USB mic) 16000 Hz", output="hw:0,0 (speaker)")
    state.last_mic_frame_s = state.clock()
    state.timers = lambda: [{"id": "a1", "name": "pasta", "label": "pasta timer", "area": None,
                             "state": "running", "duration_s": 600.0, "remaining_s": 250.0,
                             "ends_at_s": state.clock() + 250.0, "created_s": state.clock()}]
    state.home = lambda: {"name": "home", "box": "box-1", "room": "kitchen", "port": 10790,
                          "peers": [{"box": "box-2", "address": "10.0.0.2:10790",
                                     "last_heard_s": 3.0, "room": "living room"}],
                          "configured_peers": [], "rejected": {}, "last_decision": None}
    for i, ms in enumerate(REPLY_MS):
        state.record_turn("mic", f"what is the weather like {i}", "It is sunny <b>today</b>.",
                          "llm" if i % 2 else "cache",
                          {"end_of_speech_ms": 240.0, "stt_ms": ms * 0.4,
                           "first_reply_audio_ms": ms, "total_ms": ms * 2})
    return state


@pytest.fixture
async def page_url(tmp_path: Path) -> AsyncIterator[str]:
    server = HealthServer(make_config(tmp_path, health__port=0), healthy_state(), None)
    await asyncio.wait_for(server.start(), 10)
    try:
        yield f"http://127.0.0.1:{server.port}/"
    finally:
        await asyncio.wait_for(server.stop(), 10)


async def chromium(tmp_path: Path, *args: str) -> bytes:
    assert CHROMIUM is not None
    process = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1200,900",
        "--virtual-time-budget=5000", "--hide-scrollbars", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode(errors="replace")[-2000:]
    return stdout


def decode_png(data: bytes) -> np.ndarray:
    """RGB pixels of an 8-bit, non-interlaced PNG (what Chromium writes), without Pillow."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert header is not None
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0 and color in (2, 6), header
    channels = 3 if color == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8)
    stride = width * channels
    rows = raw.reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        prev = out[y - 1] if y else np.zeros(stride, dtype=np.int32)
        if kind == 0:
            out[y] = line
        elif kind == 2:
            out[y] = (line + prev) & 0xFF
        else:  # sub, average, paeth depend on the left pixel: go byte by byte
            cur = out[y]
            for x in range(stride):
                left = cur[x - channels] if x >= channels else 0
                up = prev[x]
                upleft = prev[x - channels] if x >= channels else 0
                if kind == 1:
                    pred = left
                elif kind == 3:
                    pred = (left + up) // 2
                else:
                    p = left + up - upleft
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                    pred = left if pa <= pb and pa <= pc else up if pb <= pc else upleft
                cur[x] = (line[x] + pred) & 0xFF
    return out.reshape(height, width, channels)[:, :, :3].astype(np.uint8)


def pixels_of(image: np.ndarray, rgb: tuple[int, int, int]) -> int:
    return int(np.all(np.abs(image.astype(np.int16) - rgb) <= 6, axis=2).sum())


async def test_page_shows_health_tables_and_a_bar_per_turn(page_url: str, tmp_path: Path) -> None:
    dom = (await chromium(tmp_path, "--dump-dom", page_url)).decode()
    assert re.search(r'class="badge ok"[^>]*>Healthy · ready<', dom), dom[:2000]
    assert 'id="latency-chart"' in dom
    assert len(re.findall(r'class="bar"', dom)) == len(REPLY_MS)
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in dom and "hw:1,0 (USB mic) 16000 Hz" in dom
    assert "It is sunny &lt;b&gt;today&lt;/b&gt;." in dom  # shown as text, never as markup
    assert "cannot read /status" not in dom
    assert re.search(r"<td>last mic frame</td><td>[0-9.]+ s ago</td>", dom), dom[-3000:]
    assert re.search(r'<td>pasta timer</td><td class="state-running">running</td>'
                     r'<td class="num">4 min</td>', dom), dom[-3000:]
    assert 'id="home">kitchen · living room<' in dom  # this box's room and the rooms it hears


async def test_screenshot_shows_the_green_badge_and_the_latency_chart(page_url: str,
                                                                      tmp_path: Path) -> None:
    out_dir = Path(os.environ.get("SATELLITE_ARTIFACTS_DIR", tmp_path))
    out_dir.mkdir(parents=True, exist_ok=True)
    shot = out_dir / "status-page.png"
    await chromium(tmp_path, f"--screenshot={shot}", page_url)
    image = decode_png(shot.read_bytes())
    assert image.shape == (900, 1200, 3)
    assert pixels_of(image, GREEN_BADGE) > 2000  # the "Healthy · ready" badge
    assert pixels_of(image, BLUE_BAR) > 5000  # bars within the 800 ms budget
    assert pixels_of(image, RED_BAR) > 1000  # the two turns over budget


async def test_page_says_not_ready_and_why_while_a_model_loads(tmp_path: Path) -> None:
    state = RuntimeState()
    state.set_component("stt", "ready")
    state.set_component("llm", "starting", "loading model")
    server = HealthServer(make_config(tmp_path, health__port=0), state, None)
    await asyncio.wait_for(server.start(), 10)
    try:
        dom = (await chromium(tmp_path, "--dump-dom",
                              f"http://127.0.0.1:{server.port}/")).decode()
    finally:
        await asyncio.wait_for(server.stop(), 10)
    assert re.search(r'class="badge degraded"[^>]*>Not ready<', dom), dom[:2000]
    assert "llm: starting (loading model)" in dom
    assert "no turns yet" in dom
