#!/usr/bin/env python3
"""The wake word said over the box's own reply, after the echo canceller: recall, and the
box's own voice waking it (#19: barge-in by wake word), offline.

    nice -n 10 .venv/bin/python scripts/bench_wake_over_reply.py [--reply-min 30] [--gain-db -6 0] [--check]

The box's reply is Piper's default voice reading prose (``scripts/bench_wake.py``'s texts),
cached beside that bench's corpus. The microphone hears it back through
``scripts.room.room_impulse`` (40 ms, ``--gain-db``, a 150 ms tail) with noise at -55 dBFS, as
in ``scripts/bench_echo_room.py``; a person says the wake word bench's clean okay_nabu clips
(the phrase, a pause, a request; 15 Piper voices, 25 espeak-ng voices; as loud as the reply)
4 s into every 14 s of reply. WebRTC's AEC3 (the box's canceller, ``load_processor``) cleans
it with the reply as its reference on the sink's clock, as the daemon does, one canceller
over the whole stream. microWakeWord okay_nabu
and openWakeWord okay_nabu score the cleaned audio in 20 ms chunks, and each setting's rule is
replayed on the scores (``WakeDecision``, ``SecondOpinion``).

Reported per setting: the clips recalled (a decision from the phrase's start to 1 s after its
end), and the box's own voice: decisions while nobody else speaks (between the clips, and the
minutes of reply with nobody speaking after them), per hour of the box speaking.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from satellite.audio import Pcm, read_wav, write_wav  # noqa: E402
from satellite.audio.echo import load_processor  # noqa: E402
from satellite.engines.wake import MicroWakeWordDetector, OpenWakeWordDetector  # noqa: E402
from scripts.bench_wake import (  # noqa: E402
    RATE,
    RECALL_WINDOW_S,
    Corpus,
    Voice,
    cache_dir,
    confirmed,
    decisions,
    level,
    micro_trace,
    oww_traces,
    to_pcm,
)
from scripts.room import echo_of, room_impulse  # noqa: E402

SEGMENT_S = 14.0  # reply under each clip
CLIP_AT_S = 4.0  # the person starts this far into it
GAP_S = 2.0  # silence between replies
DELAY_MS = 40.0
NOISE_DBFS = -55.0
FRAME = RATE // 100
SETTINGS = [  # (label, microWakeWord cutoff, openWakeWord cutoff or None, either)
    ("cutoff 0.85 (default)", 0.85, None, False),
    ("cutoff 0.8", 0.8, None, False),
    ("cutoff 0.75", 0.75, None, False),
    ("cutoff 0.7", 0.7, None, False),
    ("cutoff 0.6", 0.6, None, False),
    ("cutoff 0.5", 0.5, None, False),
    ("0.85 or openWakeWord >= 0.5", 0.85, 0.5, True),
    ("0.85 or openWakeWord >= 0.3", 0.85, 0.3, True),
    ("0.7 or openWakeWord >= 0.5", 0.7, 0.5, True),
]


def reply_audio(corpus: Corpus, minutes: float) -> np.ndarray:
    """Piper's default voice reading prose for ``minutes``, levelled; cached."""
    path = corpus.root / "over_reply" / f"reply_{minutes:g}min.wav"
    if path.is_file():
        return np.frombuffer(read_wav(path).audio, dtype="<i2").astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    x = level(corpus.speech(Voice("piper"), minutes * 60, random.Random(5)))
    write_wav(path, Pcm(to_pcm(x), RATE))
    return x


def cancel(mic: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """AEC3 over the whole stream, the reference on the sink's clock as the daemon gives it
    (AEC3 finds the echo's delay itself; with none left to find, it lost the echo for good
    after a few minutes of speech here)."""
    processor = load_processor(echo=True, noise_level=0, auto_gain=False)
    far = reference[:len(mic)]
    near16 = np.clip(np.round(mic), -32768, 32767).astype(np.int16)
    far16 = np.clip(np.round(far), -32768, 32767).astype(np.int16)
    out = np.empty_like(near16)
    whole = len(near16) // FRAME * FRAME
    for i in range(0, whole, FRAME):
        out[i:i + FRAME] = processor.process(near16[i:i + FRAME], far16[i:i + FRAME])
    return out[:whole].astype(np.float32)


def build(corpus: Corpus, reply: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float, str, float, float]], float]:
    """(played, person) streams, the clips' (phrase start, end, voice, clip start, clip end),
    and where the reply without anyone speaking starts (s)."""
    clips = corpus.positives_for("okay_nabu")["clean"]
    seg, gap = int(SEGMENT_S * RATE), int(GAP_S * RATE)
    played_parts, person_parts, marks = [], [], []
    cursor, t = 0, 0.0
    for wav, start, end, voice in clips:
        piece = reply[cursor:cursor + seg]
        cursor += seg
        person = np.zeros(len(piece) + gap, np.float32)
        said = np.frombuffer(read_wav(wav).audio, dtype="<i2").astype(np.float32)
        at = int(CLIP_AT_S * RATE)
        said = said[:len(person) - at]
        person[at:at + len(said)] = said
        played_parts += [piece, np.zeros(gap, np.float32)]
        person_parts.append(person)
        marks.append((t + CLIP_AT_S + start, t + CLIP_AT_S + end, voice, t + CLIP_AT_S,
                      t + CLIP_AT_S + len(said) / RATE))
        t += (len(piece) + gap) / RATE
    alone_s = t
    rest = reply[cursor:]
    played = np.concatenate(played_parts + [rest])
    person = np.concatenate(person_parts + [np.zeros(len(rest), np.float32)])
    return played, person, marks, alone_s


def check_rows(gain_db: float, audio: bytes, trace: np.ndarray, windows: list, clips: list,
               marks: list, speaking_h: float) -> list[dict]:
    """Whisper's check over the box's voice (``--check``): a score from ``MEASURED`` makes a
    candidate; one that reaches the score that decides at once (the model's cutoff over the
    voice, 0.6, or its own, 0.85) wakes at once, one below it wakes if Whisper reads the
    phrase at the bar."""
    from satellite.config.schema import SttConfig
    from satellite.engines.stt import WhisperStt
    from satellite.engines.wake import OVER_VOICE_CUTOFFS, MicroWakeWordDetector, WakeDecision
    from satellite.room.wake_check import CHECK_BEFORE_S, MEASURED, READINGS

    cutoff = OVER_VOICE_CUTOFFS["okay_nabu"]
    own_cutoff = MicroWakeWordDetector("okay_nabu").model_cutoff
    rule = WakeDecision(cutoff, 2.0, check_from=MEASURED["okay_nabu"])
    stt = WhisperStt(SttConfig())
    candidates = []  # (fired_s, peak, log-odds)
    for t, p in zip(trace[0].tolist(), trace[1].tolist(), strict=True):
        if not rule.decide(p, t):
            continue
        c = rule.candidate
        assert c is not None
        odds = None
        if c.peak < own_cutoff:
            first = max(0, round((c.start_s - CHECK_BEFORE_S) * RATE)) * 2
            window = Pcm(audio[first:round(c.end_s * RATE) * 2], RATE)
            odds = stt.phrase_odds(window, READINGS["okay_nabu"]).logodds
        candidates.append((c.fired_s, c.peak, odds))
    rows = []
    for at_once, bar in [(cutoff, b) for b in (None, -10.0, -12.0, -14.0)] + [
            (own_cutoff, b) for b in (-14.0, -17.0, -18.0, -19.0, -20.0)]:
        def wakes(peak: float, odds: float | None, at_once: float = at_once,
                  bar: float | None = bar) -> bool:
            return peak >= at_once or (bar is not None and odds is not None and odds >= bar)
        times = [f for f, peak, odds in candidates if wakes(peak, odds)]
        hits = [any(s <= x <= e for x in times) for s, e in windows]
        own = [x for x in times if not any(a <= x <= b + 0.5 for a, b in clips)]
        label = (f"at once from {at_once:g}, candidates from {MEASURED['okay_nabu']:g}"
                 + ("" if bar is None else f", below it Whisper's log-odds >= {bar:g}"))
        row = {"gain_db": gain_db, "setting": label, "recalled": sum(hits), "clips": len(hits),
               "own_voice_wakes": len(own), "own_voice_per_hour": len(own) / speaking_h,
               "own_voice_at_s": [round(x, 1) for x in own],
               "checked": sum(o is not None and peak < at_once for _, peak, o in candidates)}
        rows.append(row)
        print(f"| {gain_db:g} dB | {label} | {row['recalled']}/{row['clips']} | {len(own)} "
              f"({row['own_voice_per_hour']:.1f}/h) | {row['checked']} read |",
              file=sys.stderr, flush=True)
    recalled_odds = sorted(round(o, 1) for f, peak, o in candidates
                           if o is not None and any(s <= f <= e for s, e in windows))
    print(f"  the wake words read by Whisper (score under {own_cutoff:g}): log-odds {recalled_odds}",
          file=sys.stderr, flush=True)
    own_odds = sorted(round(o, 1) for f, _, o in candidates
                      if o is not None and not any(a <= f <= b + 0.5 for a, b in clips))
    print(f"  the box's own voice: Whisper's log-odds of the candidates it made: {own_odds[-10:]}",
          file=sys.stderr, flush=True)
    return rows


def run(args: argparse.Namespace) -> dict:
    corpus = Corpus(Path(args.cache), 0, 40)
    reply = reply_audio(corpus, args.reply_min)
    micro = MicroWakeWordDetector("okay_nabu")
    oww = {"okay_nabu": OpenWakeWordDetector("okay_nabu")}
    results = []
    for gain_db in args.gain_db:
        played, person, marks, alone_s = build(corpus, reply)
        rng = np.random.default_rng(3)
        echo = echo_of(played, room_impulse(RATE, DELAY_MS, gain_db, 150.0))
        noise = rng.standard_normal(len(played)) * 32768 * 10 ** (NOISE_DBFS / 20)
        started = time.perf_counter()
        cleaned = cancel(echo + noise + person, played)
        cancel_s = time.perf_counter() - started
        erle = 10 * np.log10(np.mean(echo[int(alone_s * RATE):] ** 2)
                             / (np.mean(cleaned[int(alone_s * RATE):] ** 2) + 1e-9))
        audio = to_pcm(cleaned)
        first = micro_trace(micro, audio)
        second = oww_traces(oww, audio)["okay_nabu"]
        speaking_h = len(played) / RATE / 3600 - len(marks) * GAP_S / 3600
        windows = [(s, e + RECALL_WINDOW_S) for s, e, *_ in marks]
        clips = [(a, b) for *_, a, b in marks]  # the person speaking
        peaks = [float(first[1][(first[0] >= s) & (first[0] <= e)].max(initial=0.0))
                 for s, e in windows]
        for label, cutoff, second_cutoff, either in SETTINGS:
            times = decisions(first, cutoff)
            if second_cutoff is not None:
                times = confirmed(times, second, second_cutoff, either)
            hits = [any(s <= x <= e for x in times) for s, e in windows]
            own = [x for x in times if not any(a <= x <= b + 0.5 for a, b in clips)]
            piper = [h for h, (_, _, v, *_) in zip(hits, marks, strict=True) if v.startswith("piper")]
            espeak = [h for h, (_, _, v, *_) in zip(hits, marks, strict=True) if v.startswith("espeak")]
            row = {"gain_db": gain_db, "setting": label, "recalled": sum(hits), "clips": len(hits),
                   "piper": f"{sum(piper)}/{len(piper)}", "espeak": f"{sum(espeak)}/{len(espeak)}",
                   "own_voice_wakes": len(own), "own_voice_per_hour": len(own) / speaking_h,
                   "own_voice_at_s": [round(x, 1) for x in own]}
            results.append(row)
            print(f"| {gain_db:g} dB | {label} | {row['recalled']}/{row['clips']} "
                  f"({row['piper']} Piper, {row['espeak']} espeak-ng) | {len(own)} "
                  f"({row['own_voice_per_hour']:.1f}/h) |", file=sys.stderr, flush=True)
        if args.check:
            results += check_rows(gain_db, audio, first, windows, clips, marks, speaking_h)
        results.append({"gain_db": gain_db, "erle_db": float(erle), "cancel_s": cancel_s,
                        "speaking_h": speaking_h, "micro_peaks": peaks})
        print(f"  {gain_db:g} dB: ERLE on the reply alone {erle:.1f} dB; {speaking_h * 60:.1f} min "
              f"of the box speaking; microWakeWord's peak per clip: "
              + " ".join(f"{p:.2f}" for p in peaks), file=sys.stderr, flush=True)
    return {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                       f"{platform.python_version()}", "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", default=str(cache_dir()))
    parser.add_argument("--reply-min", type=float, default=30.0,
                        help="minutes of the box's voice (the clips use the first 9)")
    parser.add_argument("--gain-db", type=float, nargs="*", default=[-6.0, 0.0],
                        help="the echo's level under the played reply (the room bench: -6)")
    parser.add_argument("--check", action="store_true",
                        help="also Whisper's check of the candidates below the cutoff over the voice")
    parser.add_argument("--json")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
