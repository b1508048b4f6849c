#!/usr/bin/env python3
"""Seams in a reply synthesized in pieces (#18, part 7): whole-sentence synthesis vs the pieces the
room speaks (the streamed lead words, a first clause, bounded chunks), before and after the seams
were trimmed, on the sentences below (English and Spanish).

For each seam: the silence there (ms of 5 ms frames 40 dB under the loudest frame, the run that
touches the seam) and the pause at the same place of the whole sentence (found by Piper's phoneme
alignments); the pitch of the last voiced 150 ms before a seam between two words against the
whole sentence's at that place (semitones; a sentence's end falls); a DNSMOS estimate of each
way (speechmos, P.808 and overall); the time to the first audio block (synthesis of the first
piece) with the three ways interleaved; and the pause between two sentences.

Needs the ``bench`` extra (speechmos, librosa, onnx for the alignments):

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python scripts/bench_seams.py [--rounds 3] [--voice-es PATH]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import librosa
import numpy as np
from piper import PiperVoice, SynthesisConfig
from speechmos import dnsmos

from satellite.audio.silence import trim_silence
from satellite.config.schema import Config, TtsConfig
from satellite.engines.tts import EDGE_MS, PAUSE_AFTER_MS, PiperTts, seam_after, unmarked
from satellite.models.resolve import resolve_model, store_for
from satellite.pipeline.sentences import SentenceSplitter
from satellite.pipeline.speech_chunks import after_lead, speech_chunks, streamed_lead

SENTENCES = {
    "en": [
        "The capital of France is Paris.",
        "The first moon landing, in nineteen sixty nine, was watched by millions.",
        "Bees make honey from the nectar of flowers.",
        "Water freezes at thirty two degrees Fahrenheit.",
        "The largest planet in our solar system is Jupiter.",
        "I think it will rain tomorrow, so take an umbrella.",
        "Your kitchen light is on and the heating is set to twenty degrees.",
        "Mount Everest is the highest mountain on Earth.",
        "Whales are mammals, not fish, and they breathe air.",
        "The timer will ring in ten minutes.",
        "Sorry, I could not reach the living room speaker just now.",
        "A spider has eight legs and most of them spin silk.",
    ],
    "es": [
        "La capital de Francia es París.",
        "El agua hierve a cien grados en el nivel del mar.",
        "Mañana lloverá por la tarde, así que lleva un paraguas.",
        "La luz de la cocina está encendida y la calefacción también.",
        "Las ballenas son mamíferos, no peces, y respiran aire.",
        "El temporizador sonará dentro de diez minutos.",
        "Júpiter es el planeta más grande del sistema solar.",
        "Las abejas hacen miel con el néctar de las flores.",
    ],
}
FRAME_MS = 5
SILENCE_DB = -40.0
DNSMOS_RATE_HZ = 16000


def reply_pieces(sentence: str, tts: TtsConfig) -> list[str]:
    """The pieces the turn service speaks for a reply that is this one sentence, fed to it word by
    word as the LLM writes it: the streamed lead, a first clause, the rest in bounded chunks."""
    splitter = SentenceSplitter(first_clause_words=tts.first_clause_words)
    pieces: list[str] = []
    lead, lead_words = "", tts.lead_words

    def spoken(said: str) -> None:
        nonlocal lead
        rest = after_lead(said, lead) if lead else None
        lead = ""
        pieces.extend(speech_chunks(rest, max_words=tts.max_chunk_words) if rest is not None else
                      speech_chunks(said, lead_words=0 if pieces else tts.lead_words,
                                    max_words=tts.max_chunk_words))

    for word in sentence.split():
        for said in splitter.feed(word + " "):
            spoken(said)
        if lead_words and not splitter.started:
            found = streamed_lead(splitter.pending, lead_words)
            if found is not None:
                lead_words, lead = 0, found
                pieces.append(found)
    for said in splitter.flush():
        spoken(said)
    return pieces


def silent_frames(audio: np.ndarray, rate_hz: int) -> np.ndarray:
    frame = rate_hz * FRAME_MS // 1000
    frames = audio[:len(audio) // frame * frame].astype(np.float64).reshape(-1, frame)
    db = 10 * np.log10((frames ** 2).mean(axis=1) + 1e-12)
    return db < db.max() + SILENCE_DB


def silence_ms_at(silent: np.ndarray, first: int, last: int) -> int:
    """The longest run of silent frames that touches frames ``first..last``, in ms."""
    best = 0
    for i in range(max(0, first - 1), min(len(silent), last + 2)):
        if not silent[i]:
            continue
        a = b = i
        while a > 0 and silent[a - 1]:
            a -= 1
        while b + 1 < len(silent) and silent[b + 1]:
            b += 1
        best = max(best, b - a + 1)
    return best * FRAME_MS


@dataclass
class Way:
    """One way of speaking the sentences, and what was measured of it."""

    name: str
    speak: Callable[[str], np.ndarray]  # a piece's text -> float32 audio
    seams: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)  # kind -> (ms, whole ms)
    pitch_st: list[float] = field(default_factory=list)
    mos: list[tuple[float, float]] = field(default_factory=list)
    first_ms: list[float] = field(default_factory=list)
    onset_ms: list[float] = field(default_factory=list)


class Whole:
    """Whole-sentence synthesis with Piper's phoneme alignments: where each word boundary is."""

    def __init__(self, voice_path: Path):
        self.voice = PiperVoice.load(voice_path, include_alignments=True)
        self.rate_hz = self.voice.config.sample_rate

    def __call__(self, sentence: str) -> tuple[np.ndarray, list[tuple[int, int]] | None]:
        """The audio and the (start, end) samples of each space between words, or None when
        espeak-ng did not keep one space per word boundary (then the seams are not compared)."""
        chunks = list(self.voice.synthesize(sentence, SynthesisConfig(), include_alignments=True))
        audio = np.concatenate([c.audio_float_array for c in chunks])
        spaces, at = [], 0
        for chunk in chunks:
            for alignment in chunk.phoneme_alignments or []:
                if alignment.phoneme == " ":
                    spaces.append((at, at + int(alignment.num_samples)))
                at += int(alignment.num_samples)
        return audio, spaces if len(spaces) == len(sentence.split()) - 1 else None


def end_pitch_hz(audio: np.ndarray, end: int, rate_hz: int) -> float | None:
    """Median F0 of the last voiced 150 ms before sample ``end`` (pYIN), None if unvoiced."""
    segment = audio[max(0, end - rate_hz // 2):end]
    f0, voiced, _ = librosa.pyin(segment, fmin=50, fmax=300, sr=rate_hz, frame_length=1024)
    f0 = f0[voiced]
    return float(np.median(f0[-int(0.15 * rate_hz / 256):])) if len(f0) else None


def mos(audio: np.ndarray, rate_hz: int) -> tuple[float, float]:
    resampled = librosa.resample(audio, orig_sr=rate_hz, target_sr=DNSMOS_RATE_HZ)
    scores = dnsmos.run(np.clip(resampled, -1.0, 1.0), DNSMOS_RATE_HZ)
    return float(scores["p808_mos"]), float(scores["ovrl_mos"])


def measure(sentences: list[str], whole: Whole, ways: list[Way], tts: TtsConfig, rounds: int) -> None:
    rate = whole.rate_hz
    for sentence in sentences:
        pieces = reply_pieces(sentence, tts)
        for _ in range(rounds):
            audio, spaces = whole(sentence)
            silent = silent_frames(audio, rate)
            boundaries, words = [], 0
            for piece in pieces[:-1]:
                words += len(unmarked(piece).split())
                if spaces is None:
                    boundaries.append(None)
                    continue
                a, b = spaces[words - 1]
                frame = rate * FRAME_MS // 1000
                boundaries.append((a, silence_ms_at(silent, a // frame, b // frame)))
            whole_way = ways[0]
            whole_way.mos.append(mos(audio, rate))
            for way in ways[1:]:
                parts = [way.speak(piece) for piece in pieces]
                joined = np.concatenate(parts)
                silent_joined = silent_frames(joined, rate)
                at = 0
                for piece, part, boundary in zip(pieces, parts, boundaries, strict=False):
                    at += len(part)
                    kind = seam_after(piece)
                    seam = at // (rate * FRAME_MS // 1000)
                    whole_ms = boundary[1] if boundary else None
                    way.seams.setdefault(kind, []).append((silence_ms_at(silent_joined, seam, seam), whole_ms))
                    if kind == "word" and boundary:
                        mine, theirs = end_pitch_hz(joined, at, rate), end_pitch_hz(audio, boundary[0], rate)
                        if mine and theirs:
                            way.pitch_st.append(12 * np.log2(mine / theirs))
                way.mos.append(mos(joined, rate))


def time_first_audio(sentences: list[str], whole: Whole, ways: list[Way], tts: TtsConfig, rounds: int) -> None:
    """Synthesis time of the first audio block, the ways interleaved; and the silence before its
    first sound (heard as latency too)."""
    rate = whole.rate_hz
    for _ in range(rounds):
        for sentence in sentences:
            first = reply_pieces(sentence, tts)[0]
            for way in ways:
                text = sentence if way is ways[0] else first
                started = time.perf_counter()
                audio = way.speak(text)
                way.first_ms.append((time.perf_counter() - started) * 1000)
                way.onset_ms.append(float(np.argmax(~silent_frames(audio, rate))) * FRAME_MS)


def sentence_pauses(sentences: list[str], whole: Whole, ways: list[Way]) -> dict[str, list[int]]:
    """The pause between two sentences of a reply: Piper given both at once vs one at a time."""
    rate = whole.rate_hz
    frame = rate * FRAME_MS // 1000
    pauses: dict[str, list[int]] = {}
    for first, second in zip(sentences, sentences[1:], strict=False):
        blocks = [c.audio_float_array for c in whole.voice.synthesize(f"{first} {second}")]
        if len(blocks) == 2:
            at = len(blocks[0]) // frame
            pauses.setdefault(ways[0].name, []).append(
                silence_ms_at(silent_frames(np.concatenate(blocks), rate), at, at))
        for way in ways[1:]:
            one, two = way.speak(first), way.speak(second)
            at = len(one) // frame
            pauses.setdefault(way.name, []).append(
                silence_ms_at(silent_frames(np.concatenate([one, two]), rate), at, at))
    return pauses


def ways_for(voice: Path) -> tuple[Whole, list[Way]]:
    whole = Whole(voice)
    engine = PiperTts(TtsConfig(), voice_path=voice)
    raw = engine._piper  # the same onnxruntime session the engine uses
    rate = whole.rate_hz

    def before(text: str) -> np.ndarray:  # the engine as it was: Piper's audio as it comes
        return np.concatenate([c.audio_float_array for c in raw.synthesize(unmarked(text))])

    def after(text: str) -> np.ndarray:
        return np.concatenate([p.float32() for p in engine.synthesize(text)])

    def trimmed_bare(text: str) -> np.ndarray:  # the edges trimmed, a cut spoken as it is written
        audio = before(text)
        audio = trim_silence(audio, rate, keep_start_ms=EDGE_MS, keep_end_ms=None)
        return trim_silence(audio, rate, keep_start_ms=None, keep_end_ms=PAUSE_AFTER_MS[seam_after(text)])

    return whole, [Way("whole sentence", before), Way("pieces, before", before),
                   Way("pieces, after (trimmed, a cut spoken with a comma)", after),
                   Way("pieces, trimmed only (a cut spoken bare)", trimmed_bare)]


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}" if values else "–"


def report(language: str, voice: Path, ways: list[Way], pauses: dict[str, list[int]]) -> None:
    print(f"\n### {language}: {voice.name}\n")
    print("| way | seams between words: median / max ms (whole there: median / max) "
          "| at a comma: median / max (whole) | pitch at a word seam vs whole, median st (n) "
          "| between sentences, median ms | DNSMOS P.808 / OVRL | first block synthesized, median ms "
          "| silence before the first sound, ms |")
    print("|---|---|---|---|---|---|---|---|")
    for way in ways:
        cells = []
        for kind in ("word", "clause"):
            seams = way.seams.get(kind, [])
            wholes = [w for _, w in seams if w is not None]
            cells.append(f"{median([m for m, _ in seams])} / {max((m for m, _ in seams), default=0)} "
                         f"({median(wholes)} / {max(wholes, default=0)})" if seams else "–")
        pitch = f"{statistics.median(way.pitch_st):+.1f} ({len(way.pitch_st)})" if way.pitch_st else "–"
        p808 = statistics.mean(m[0] for m in way.mos)
        ovrl = statistics.mean(m[1] for m in way.mos)
        print(f"| {way.name} | {cells[0]} | {cells[1]} | {pitch} | {median(pauses.get(way.name, []))} "
              f"| {p808:.2f} / {ovrl:.2f} | {median(way.first_ms)} | {median(way.onset_ms)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="syntheses of each sentence per way")
    parser.add_argument("--voice-es", default="", help="a Spanish Piper voice; empty = what the box "
                                                       "uses with language: es (a pulled one, else the default)")
    args = parser.parse_args()
    config = Config()
    voices = {"en": resolve_model("tts", "", store_for(config), "en"),
              "es": Path(args.voice_es) if args.voice_es else resolve_model("tts", "", store_for(config), "es")}
    print(f"lead_words={config.tts.lead_words} first_clause_words={config.tts.first_clause_words} "
          f"max_chunk_words={config.tts.max_chunk_words}; kept: edge {EDGE_MS} ms, after {PAUSE_AFTER_MS}")
    for language, voice in voices.items():
        whole, ways = ways_for(voice)
        sentences = SENTENCES[language]
        for sentence in sentences[:2]:
            print(f"{language}: {reply_pieces(sentence, config.tts)}")
        measure(sentences, whole, ways, config.tts, args.rounds)
        time_first_audio(sentences, whole, ways, config.tts, args.rounds)
        report(language, voice, ways, sentence_pauses(sentences, whole, ways))


if __name__ == "__main__":
    main()
