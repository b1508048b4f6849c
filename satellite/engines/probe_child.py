"""The probe's child process: load one engine, run one tiny inference, write the answer.

``python -m satellite.engines.probe_child`` with a JSON request on stdin: ``stage``, the
resolved config ``section``, the ``answer`` file to write, and for a chained check ``wav_out``
(TTS writes its audio there) or ``wav_in`` (STT transcribes it). Exit 0 with the answer;
exit 3 with ``{"error": ...}`` for an expected error (a missing model); a crash in native code
ends the process by its signal, which is what the parent is there to see.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from satellite.engines.probe import EXIT_EXPECTED
from satellite.errors import SatelliteError


def probe(stage: str, section: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    engine, infer = _loaders()[stage](section, request)
    load_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    detail, facts = infer(engine)
    return {"load_ms": round(load_ms, 1), "infer_ms": round((time.perf_counter() - start) * 1000, 1),
            "detail": detail, "facts": facts}


def _loaders() -> dict[str, Any]:
    return {"llm": _llm, "stt": _stt, "tts": _tts, "wake": _wake}


def _llm(section: dict[str, Any], request: dict[str, Any]) -> tuple[Any, Any]:
    from satellite.config.schema import LlmConfig
    from satellite.engines.llm import ChatMessage, LlamaCppLlm

    engine = LlamaCppLlm(LlmConfig(**section))

    def infer(llm: LlamaCppLlm) -> tuple[str, dict[str, Any]]:
        chat = [ChatMessage("system", llm.config.system_prompt),
                ChatMessage("user", "Say hello in three words.")]
        reply = "".join(llm.stream(chat, max_tokens=12))
        return (f"{llm.path.name}: {reply.strip()[:40]!r}",
                {"llama.cpp": llm.system_info, "threads": llm.threads,
                 "extra_buffers": llm.extra_buffers})

    return engine, infer


def _stt(section: dict[str, Any], request: dict[str, Any]) -> tuple[Any, Any]:
    from satellite.audio import Pcm, read_wav, to_stt_format
    from satellite.config.schema import SttConfig
    from satellite.engines.stt import WhisperStt

    engine = WhisperStt(SttConfig(**section))

    def infer(stt: WhisperStt) -> tuple[str, dict[str, Any]]:
        wav = request.get("wav_in")
        pcm = to_stt_format(read_wav(Path(wav))) if wav else Pcm.silence(0.5)
        text = stt.transcribe(pcm).text
        return (f"{stt.name}: heard {text!r}",
                {"threads": stt.threads, "compute_type": stt.config.compute_type})

    return engine, infer


def _tts(section: dict[str, Any], request: dict[str, Any]) -> tuple[Any, Any]:
    from satellite.audio import Pcm, write_wav
    from satellite.config.schema import TtsConfig
    from satellite.engines.tts import PiperTts

    engine = PiperTts(TtsConfig(**section))

    def infer(tts: PiperTts) -> tuple[str, dict[str, Any]]:
        blocks = list(tts.synthesize("Testing one two three."))
        pcm = Pcm(b"".join(b.audio for b in blocks), blocks[0].rate_hz)
        if request.get("wav_out"):
            write_wav(Path(request["wav_out"]), pcm)
        return f"{tts.voice.name}: {pcm.seconds:.2f} s of audio", {"threads": tts.threads}

    return engine, infer


def _wake(section: dict[str, Any], request: dict[str, Any]) -> tuple[Any, Any]:
    from satellite.audio import Pcm
    from satellite.config.schema import WakeConfig
    from satellite.engines.wake import create_wake_detector

    engine = create_wake_detector(WakeConfig(**section))

    def infer(detector: Any) -> tuple[str, dict[str, Any]]:
        audio = Pcm.silence(1.0).audio
        heard = sum(detector.process(audio[i:i + 2560], (i + 2560) / 32000)
                    for i in range(0, len(audio), 2560))
        runtime = getattr(detector, "runtime", "openwakeword")
        return (f"{detector.name} on {runtime}: {heard} wake words in 1 s of silence",
                {"runtime": runtime})

    return engine, infer


def main() -> int:
    request = json.loads(sys.stdin.read())
    answer_path = Path(request["answer"])
    try:
        answer = probe(request["stage"], request["section"], request)
    except SatelliteError as error:
        answer_path.write_text(json.dumps({"error": str(error)}), encoding="utf-8")
        return EXIT_EXPECTED
    answer_path.write_text(json.dumps(answer), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
