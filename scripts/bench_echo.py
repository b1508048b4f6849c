#!/usr/bin/env python3
"""Echo cancellers on a simulated room, offline: which one the box uses, and why (#19, part 1).

The reference is a reply the box says (Piper, 16 kHz); the microphone hears it back through
``scripts.room.room_impulse`` (delay, attenuation, a reverberation tail) plus faint noise, and
in the double-talk part a person (the built-in sentences, spoken by Piper) says a sentence
over it. For each canceller that imports here it prints:

- ERLE after convergence: the echo's energy at the microphone over the energy left in the
  cleaned audio, on echo-only audio from ``--converge-s`` on (dB; higher is better);
- CPU time per 10 ms frame (process time of this process, single thread);
- the WER of the person's sentences heard over the reply (Whisper tiny.en, the box's STT):
  clean, with the echo left in, and after the canceller.

    .venv/bin/python scripts/bench_echo.py [--sentences 12] [--delay-ms 40] [--gain-db -6]
        [--only webrtc-aec3,...]

Candidates are imported if installed (``pip install --target DIR`` and PYTHONPATH=DIR work
too): pywebrtc-audio (WebRTC AEC3), livekit (its AudioProcessingModule, WebRTC AEC3),
speexdsp-aec (libspeexdsp through ctypes: needs the Debian package libspeexdsp1), and the
noise suppressors webrtc-noise-gain and pyspeex-noise (no echo reference at all).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from satellite.audio import Pcm, to_stt_format  # noqa: E402
from satellite.benchdata import builtin_sentences, one_per_text  # noqa: E402
from satellite.config import load_config  # noqa: E402
from scripts.room import echo_of, room_impulse  # noqa: E402

RATE_HZ = 16000
FRAME = RATE_HZ // 100  # 10 ms
REPLY = ("The ocean covers about seventy one percent of the surface of the Earth, and it holds "
         "almost all of its water. Sailors have crossed it for thousands of years, first along "
         "the coasts and later far out of sight of land, guided by the stars, the sun and the "
         "wind. Today large ships carry most of the goods that the world trades.")

Process = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (mic frame, reference frame) -> clean


def candidates(delay_ms: int) -> dict[str, Callable[[], Process]]:
    """name -> a factory of a fresh canceller, for those that import here."""
    found: dict[str, Callable[[], Process]] = {}
    try:
        import pywebrtc_audio

        def webrtc() -> Process:
            apm = pywebrtc_audio.AudioProcessor(sample_rate=RATE_HZ, echo_cancellation=True,
                                                stream_delay_ms=delay_ms)
            return lambda near, far: apm.process(near, far)
        found["pywebrtc-audio (AEC3)"] = webrtc

        def webrtc_ns() -> Process:
            apm = pywebrtc_audio.AudioProcessor(sample_rate=RATE_HZ, echo_cancellation=True,
                                                noise_suppression=True, stream_delay_ms=delay_ms)
            return lambda near, far: apm.process(near, far)
        found["pywebrtc-audio (AEC3 + NS)"] = webrtc_ns
    except ImportError:
        pass
    try:
        from livekit import rtc

        def livekit() -> Process:
            apm = rtc.AudioProcessingModule(echo_cancellation=True, high_pass_filter=True)

            def run(near: np.ndarray, far: np.ndarray) -> np.ndarray:
                reverse = rtc.AudioFrame(far.tobytes(), RATE_HZ, 1, FRAME)
                apm.process_reverse_stream(reverse)
                apm.set_stream_delay_ms(delay_ms)
                frame = rtc.AudioFrame(near.tobytes(), RATE_HZ, 1, FRAME)
                apm.process_stream(frame)
                return np.frombuffer(bytes(frame.data), dtype=np.int16)
            return run
        found["livekit 1.2.0 (AEC3)"] = livekit
    except ImportError:
        pass
    try:
        from speexdsp_aec import SpeexAec

        def speex() -> Process:
            aec = SpeexAec(sample_rate=RATE_HZ, frame_ms=10, filter_tail_ms=256)

            def run(near: np.ndarray, far: np.ndarray) -> np.ndarray:
                out = aec.process(near, far)
                return np.frombuffer(out, dtype=np.int16) if out else np.zeros(FRAME, np.int16)
            return run
        SpeexAec(sample_rate=RATE_HZ, frame_ms=10, filter_tail_ms=256)  # the library loads
        found["speexdsp-aec (Speex MDF)"] = speex
    except (ImportError, OSError, RuntimeError):
        pass
    try:
        from webrtc_noise_gain import AudioProcessor as NoiseGain

        def noise_gain() -> Process:
            ns = NoiseGain(0, 2)  # auto gain 0 dBFS (off), noise suppression level 2
            return lambda near, far: np.frombuffer(ns.Process10ms(near.tobytes()).audio, np.int16)
        found["webrtc-noise-gain (NS only)"] = noise_gain
    except ImportError:
        pass
    try:
        from pyspeex_noise import AudioProcessor as SpeexNoise

        def speex_noise() -> Process:
            ns = SpeexNoise(0, -30)  # no gain, -30 dB noise suppression
            return lambda near, far: np.frombuffer(ns.process_10ms(near.tobytes()), np.int16)
        found["pyspeex-noise (NS only)"] = speex_noise
    except ImportError:
        pass
    return found


def run(factory: Callable[[], Process], mic: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, float]:
    """The cleaned audio, and the CPU seconds per 10 ms frame."""
    process = factory()
    out = np.zeros_like(mic)
    started = time.process_time()
    frames = len(mic) // FRAME
    for i in range(frames):
        s = slice(i * FRAME, (i + 1) * FRAME)
        out[s] = process(mic[s], reference[s])
    return out, (time.process_time() - started) / frames


def int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def energy_db(x: np.ndarray) -> float:
    return 10 * np.log10(float(np.sum(x.astype(np.float64) ** 2)) + 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=12)
    parser.add_argument("--delay-ms", type=int, default=40)
    parser.add_argument("--gain-db", type=float, default=-6.0)
    parser.add_argument("--tail-ms", type=float, default=150.0)
    parser.add_argument("--hint-ms", type=int, help="the delay the canceller is told (default: --delay-ms)")
    parser.add_argument("--noise-dbfs", type=float, default=-60.0)
    parser.add_argument("--converge-s", type=float, default=3.0)
    parser.add_argument("--only", default="", help="comma-separated candidate name prefixes")
    args = parser.parse_args()

    from satellite.engines import load_engines
    config = load_config(None, env={}, overrides={"wake.engine": "none"})
    engines = load_engines(config)
    say = lambda text: to_stt_format(Pcm(b"".join(b.audio for b in engines.tts.synthesize(text, None)),  # noqa: E731
                                         engines.tts.voice.sample_rate_hz)).samples()
    reply = say(REPLY)
    response = room_impulse(RATE_HZ, args.delay_ms, args.gain_db, args.tail_ms)
    rng = np.random.default_rng(1)
    sentences = one_per_text(builtin_sentences())[:args.sentences]
    talks = [(s.text, say(s.text)) for s in sentences]

    # Echo only: the reply twice over (convergence, then ERLE on the rest).
    reference = np.concatenate([reply, reply]).astype(np.float64)
    echo = echo_of(reference, response)
    noise = rng.standard_normal(len(echo)) * 32768 * 10 ** (args.noise_dbfs / 20)
    mic = int16(echo + noise)
    ref16 = int16(reference)
    skip = int(args.converge_s * RATE_HZ)

    # Double talk: each sentence over the middle of the reply, after the canceller converged.
    def over_reply(talk: np.ndarray) -> tuple[np.ndarray, np.ndarray, slice]:
        ref = np.concatenate([reply, np.zeros(RATE_HZ)]).astype(np.float64)
        at = int(6.0 * RATE_HZ)
        near = np.zeros(len(ref))
        near[at:at + len(talk)] = talk[:len(ref) - at]
        heard = echo_of(ref, response) + near + rng.standard_normal(len(ref)) * 32768 * 10 ** (args.noise_dbfs / 20)
        return int16(heard), int16(ref), slice(at - RATE_HZ // 2, at + len(talk) + RATE_HZ // 2)

    def transcribe(audio: np.ndarray) -> str:
        return engines.stt.transcribe(Pcm(audio.astype(np.int16).tobytes(), RATE_HZ)).text

    from tests.hearing import wer
    clean_wer = np.mean([wer(text, transcribe(np.concatenate([np.zeros(8000), t, np.zeros(8000)])))
                         for text, t in talks])
    cases = [over_reply(t) for _, t in talks]
    echo_wer = np.mean([wer(text, transcribe(heard[cut])) for (text, _), (heard, _, cut) in zip(talks, cases)])

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"room: delay {args.delay_ms} ms (canceller told {args.hint_ms or args.delay_ms} ms), gain {args.gain_db} dB, tail {args.tail_ms} ms, noise "
          f"{args.noise_dbfs} dBFS; echo at the mic {energy_db(echo[skip:]) - energy_db(reference[skip:]):+.1f} dB "
          f"of the reply; reply {len(reply) / RATE_HZ:.1f} s, played twice; {len(talks)} sentences\n")
    print(f"WER of the person over the reply, no canceller: {echo_wer:.1%} (clean speech alone: {clean_wer:.1%})\n")
    print("| canceller | ERLE after convergence | ERLE, 2nd second | CPU per 10 ms frame | double-talk WER |")
    print("|---|---|---|---|---|")
    only = [o for o in args.only.split(",") if o]
    for name, factory in candidates(args.delay_ms if args.hint_ms is None else args.hint_ms).items():
        if only and not any(name.startswith(o) for o in only):
            continue
        out, cpu_s = run(factory, mic, ref16)
        erle = energy_db(mic[skip:len(reply)]) - energy_db(out[skip:len(reply)])
        second = slice(RATE_HZ, 2 * RATE_HZ)
        early = energy_db(mic[second]) - energy_db(out[second])
        tail = slice(len(reply) + skip, len(mic))
        erle_again = energy_db(mic[tail]) - energy_db(out[tail])
        errors = []
        for (text, _), (heard, ref, cut) in zip(talks, cases):
            cleaned, _ = run(factory, heard, ref)
            errors.append(wer(text, transcribe(cleaned[cut])))
        print(f"| {name} | {erle:.1f} dB (replayed: {erle_again:.1f} dB) | {early:.1f} dB | "
              f"{cpu_s * 1e3:.3f} ms | {np.mean(errors):.1%} |", flush=True)


if __name__ == "__main__":
    main()
