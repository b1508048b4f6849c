#!/usr/bin/env python3
"""False wakes per hour and recall of every shipped wake word model (#19, part 3).

    nice -n 10 .venv/bin/python scripts/bench_wake.py [--hours 3] [--positives 40] [--json out.json]

The corpus is synthesized once into ``~/.cache/sarai-bench/wake`` (``SARAI_BENCH_CACHE`` moves
it), never into the repo:

- negatives: hours of speech that never says a wake word (no sentence names nabu, jarvis,
  alexa, mycroft or rhasspy; "hey" and "okay" stay in): monologues by espeak-ng voices (seven
  accents x variants, 120-210 words a minute, pitch 25-75) and the box's Piper voice at three
  speeds; dialogues of two voices taking turns; speech over music-like sound (chords of harmonic
  tones with a beat) at 5 dB; babble of three voices at once; music-like sound alone; and the
  real people of ``scripts/human_speech.py``. Texts: Home Assistant's English sentence
  templates sampled by hassil, prose sentences of Python's own documentation (pydoc_data), and
  the project's question sets.
- positives, per phrase ("okay nabu", "hey jarvis", "alexa", "hey mycroft"): the phrase, a
  pause, then a request, by Piper (5 speeds x 3 noise scales) and espeak-ng voices; clean, in
  noise at 10 dB SNR (pink noise or music-like sound), and over babble of other voices at 10 dB.

Each model hears every file as the daemon feeds it: 20 ms chunks of 16 kHz s16le through the
engine's own ``process`` (microWakeWord: ``MicroWakeWordDetector``; openWakeWord: one
``OpenWakeWordDetector`` front end shared by its five models, which is what each would compute
alone). Every probability the model gives is kept with its stream time (a score trace, cached),
and the decision is replayed through the engine's own ``WakeDecision`` (cutoff,
``wake.min_frames``) and ``SecondOpinion`` (``wake.second_model`` agree / either, microWakeWord
with openWakeWord's model of the same phrase) at each setting, so one pass of the models measures
every cutoff and every mitigation. False wakes in the box's own voice (the Piper parts) are
counted apart (``piper_false_wakes``, ``piper_hours`` in --json). A false wake is a decision in a
negative file; a positive is recalled when a decision falls from the phrase's start to 1 s after
its end.

Near misses (okay_nabu): sentences that start with "Okay" and never say "Nabu" ("Okay, no
problem.", "OK, now go.", and some that rhyme with it: "Okay, bamboo."), by four Piper and eight
espeak-ng voices; a near miss wakes the box when any decision falls in it.

``--check`` measures Whisper's check of the wake word (``wake.check``, ``satellite.room.wake_check``)
for the models it is measured for: the engine's own ``WakeDecision`` makes the candidates from
each score trace (``check_from``), Whisper base reads each candidate's window of the file with
``WindowDecoder.phrase_odds`` (kept in the cache), and a candidate wakes at each log-odds bar.
``--positives-seed 23`` builds other positives (other espeak-ng voices, requests and noise) to
judge the check on clips it was not tuned on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from satellite.audio import Pcm, parse_wav, read_wav, write_wav  # noqa: E402
from satellite.audio.convert import resample  # noqa: E402
from satellite.engines.wake import (  # noqa: E402
    SHIPPED_PHRASES,
    MicroWakeWordDetector,
    OpenWakeWordDetector,
    SecondOpinion,
    WakeDecision,
)

RATE = 16000
CHUNK_BYTES = 640  # 20 ms: the microphone source's chunk (satellite.audio.sources.CHUNK_S)
WAKE_WORDS = re.compile(r"nabu|jarvis|alexa|mycroft|rhasspy|naboo|jarvus", re.IGNORECASE)
PHRASES = {"okay_nabu": "Okay Nabu", "hey_jarvis": "Hey Jarvis", "alexa": "Alexa",
           "hey_mycroft": "Hey Mycroft"}
MICRO_MODELS = ("okay_nabu", "hey_jarvis", "alexa", "hey_mycroft")
OWW_MODELS = ("okay_nabu", "hey_jarvis", "alexa", "hey_mycroft", "hey_rhasspy")
ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan",
                  "en-gb-x-gbcwmd")
ESPEAK_VARIANTS = ("", "+m1", "+m2", "+m3", "+m4", "+m5", "+m6", "+m7", "+f1", "+f2", "+f3",
                   "+f4", "+f5", "+klatt", "+klatt2", "+Andy", "+annie", "+david", "+steph",
                   "+edward", "+linda", "+rob", "+paul")
LEVEL_DBFS = -26.0  # speech is levelled to this RMS
NEG_FILE_S = float(os.environ.get("BENCH_WAKE_FILE_S", 360))  # one negative file: 6 minutes
RECALL_WINDOW_S = 1.0  # a decision up to this long after the phrase ends recalls it
# Said to a box that listens for "Okay Nabu": "Okay" and something else (ordinary, then rhyming)
NEAR_MISSES = {"okay_nabu": (
    "Okay.", "Okay, no problem.", "Okay, now what?", "Okay, I will do it.", "Okay, not bad at all.",
    "Okay, have a look.", "Okay, that is enough.", "Okay, let us go.", "Okay, now move it over there.",
    "Okay, my room is clean now.", "Okay, number two.", "Okay, nobody is home.", "Okay, now listen.",
    "Okay, no way.", "Okay, nothing else.", "Okay, maybe later.", "Okay, I'm done.",
    "Okay, do it now.", "Okay, nice one.", "Okay, new plan.", "OK, now go.", "Okay, the blue one.",
    "Okay, now to you.", "Okay, not now.", "Okay, good.", "Okay, now then.", "Okay, hang on.",
    "Okay, my bad.", "Okay, never mind the blue one.", "Okay, noodles for dinner.",
    "Okay, neighbour.", "Okay, naughty boy.", "Okay, Nana.", "Okay, nachos.", "Okay, Naomi.",
    "Okay, Nadia.", "Okay, Nala.", "Okay, now you.", "Okay, now boot the computer.",
    "Okay, now blue.", "OK, no boo.", "Okay, a new booth.", "OK, Mabel.", "Okay, bamboo.",
    "Okay, taboo.", "Okay, kazoo.", "Okay, voodoo.", "Okay, Cabo it is.",
)}
CHECK_BARS = (-10.0, -12.0, -14.0, -16.0)  # the check's log-odds bars measured (--check)


def cache_dir() -> Path:
    base = Path(os.environ.get("SARAI_BENCH_CACHE", Path.home() / ".cache" / "sarai-bench"))
    return base / "wake"


# -- texts -----------------------------------------------------------------------------------------

def texts(seed: int = 7) -> list[str]:
    """Sentences that never say a wake word: HA commands, documentation prose, questions."""
    rng = random.Random(seed)
    out: list[str] = []
    from hassil.expression import TextChunk
    from hassil.intents import Intents, TextSlotList, TextSlotValue
    from hassil.sample import sample_intents
    from home_assistant_intents import get_intents

    def slot(*values: str) -> TextSlotList:
        return TextSlotList(name="", values=[TextSlotValue(TextChunk(v), v) for v in values])

    intents = Intents.from_dict(get_intents("en"))
    lists = {"area": slot("kitchen", "living room", "bedroom", "office", "garage"),
             "name": slot("kitchen lights", "bedroom lamp", "front door", "blinds", "fan"),
             "floor": slot("upstairs", "downstairs", "first floor")}
    commands: list[str] = []
    for intent_name in intents.intents:
        try:
            commands += [text for _, text in sample_intents(
                intents, slot_lists=lists, max_sentences_per_intent=60, intent_names={intent_name},
                expand_ranges=True)]
        except Exception:  # an intent needing a list we do not fill: its sentences are left out
            continue
    rng.shuffle(commands)
    out += [c[0].upper() + c[1:] + ("?" if c.split()[0] in ("what", "is", "are", "how") else ".")
            for c in commands[:3000]]
    import pydoc_data.topics as topics

    for body in topics.topics.values():
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(body.split())):
            words = sentence.split()
            if 5 <= len(words) <= 30 and re.fullmatch(r"[A-Za-z ,;:'\-.?!]+", sentence):
                out.append(sentence)
    for name in ("answers.tsv", "facts_dev.tsv"):
        path = Path(__file__).resolve().parent.parent / "satellite" / "benchdata" / name
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[0] == "en":
                out.append(parts[2])
    out = [t for t in out if not WAKE_WORDS.search(t) and "{" not in t]
    rng.shuffle(out)
    return out


# -- voices ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Voice:
    engine: str  # "espeak" | "piper"
    name: str = ""  # espeak: accent+variant
    speed_wpm: int = 160
    pitch: int = 50
    length_scale: float = 1.0
    noise_scale: float = 0.667

    def label(self) -> str:
        if self.engine == "piper":
            return f"piper:joe:len{self.length_scale}:noise{self.noise_scale}"
        return f"espeak:{self.name}:s{self.speed_wpm}:p{self.pitch}"


def random_espeak(rng: random.Random) -> Voice:
    return Voice("espeak", rng.choice(ESPEAK_ACCENTS) + rng.choice(ESPEAK_VARIANTS),
                 rng.randint(120, 210), rng.randint(25, 75))


class Synth:
    def __init__(self) -> None:
        self._piper = None

    def say(self, voice: Voice, text: str) -> np.ndarray:
        """16 kHz int16 speech, levelled to LEVEL_DBFS."""
        if voice.engine == "espeak":
            wav = subprocess.run(["espeak-ng", "-v", voice.name, "-s", str(voice.speed_wpm),
                                  "-p", str(voice.pitch), "--stdout", text],
                                 capture_output=True, check=True, timeout=600).stdout
            pcm = resample(parse_wav(wav), RATE)
        else:
            pcm = self._say_piper(voice, text)
        return level(np.frombuffer(pcm.audio, dtype="<i2").astype(np.float32))

    def _say_piper(self, voice: Voice, text: str) -> Pcm:
        import dataclasses

        from satellite.config.schema import TtsConfig
        from satellite.engines.tts import PiperTts

        if self._piper is None:
            self._piper = PiperTts(TtsConfig())
        self._piper.config = dataclasses.replace(self._piper.config,
                                                 length_scale=voice.length_scale,
                                                 noise_scale=voice.noise_scale)
        audio = b"".join(p.audio for p in self._piper.synthesize(text))
        return resample(Pcm(audio, self._piper.voice.sample_rate_hz), RATE)


def level(x: np.ndarray, dbfs: float = LEVEL_DBFS) -> np.ndarray:
    rms = active_rms(x)
    return x * (32768 * 10 ** (dbfs / 20) / rms) if rms > 0 else x


def active_rms(x: np.ndarray) -> float:
    """RMS over the 20 ms frames within 40 dB of the loudest (the speech, not its pauses)."""
    n = len(x) // 320
    if n == 0:
        return float(np.sqrt(np.mean(x ** 2))) if len(x) else 0.0
    frames = np.sqrt(np.mean(x[: n * 320].reshape(n, 320) ** 2, axis=1))
    active = frames[frames > frames.max() * 0.01]
    return float(np.sqrt(np.mean(active ** 2)))


# -- sounds ----------------------------------------------------------------------------------------

def music(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Music-like sound: chords of harmonic tones that change every beat or two, a bass, and a
    noise-burst drum, levelled to LEVEL_DBFS."""
    n = int(seconds * RATE)
    out = np.zeros(n, dtype=np.float32)
    beat_s = rng.uniform(0.35, 0.7)
    t = 0.0
    while t < seconds:
        dur = beat_s * rng.choice([1, 2, 2, 4])
        start, stop = int(t * RATE), min(n, int((t + dur) * RATE))
        tt = np.arange(stop - start) / RATE
        env = np.exp(-tt * rng.uniform(0.8, 4.0)).astype(np.float32)
        root = 110 * 2 ** (rng.integers(0, 12) / 12)
        for semis in (0, rng.choice([3, 4]), 7, 12):
            f = root * 2 ** (semis / 12) * rng.choice([1, 2])
            for h in range(1, 5):
                out[start:stop] += env * np.sin(2 * np.pi * f * h * tt + rng.uniform(0, 6)) / h
        out[start:stop] += 1.5 * env * np.sin(2 * np.pi * root / 2 * tt)
        t += dur
    drum = np.zeros(n, dtype=np.float32)
    for k in range(int(seconds / beat_s)):
        s = int(k * beat_s * RATE)
        m = min(n - s, 2400)
        drum[s:s + m] += rng.standard_normal(m).astype(np.float32) * np.exp(-np.arange(m) / 400)
    return level(out + 0.8 * drum * (np.abs(out).mean() * 3))


def pink(seconds: float, rng: np.random.Generator) -> np.ndarray:
    n = int(seconds * RATE)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    return level(np.fft.irfft(spectrum, n).astype(np.float32))


def mix_at(speech: np.ndarray, noise: np.ndarray, snr_db: float, offset: int = 0) -> np.ndarray:
    """``noise`` under ``speech`` at ``snr_db`` (active speech RMS over noise RMS)."""
    noise = np.resize(noise[offset:] if offset < len(noise) else noise, len(speech))
    gain = active_rms(speech) / max(np.sqrt(np.mean(noise ** 2)), 1e-6) / 10 ** (snr_db / 20)
    return speech + noise * gain


def to_pcm(x: np.ndarray) -> bytes:
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


# -- the corpus ------------------------------------------------------------------------------------

class Corpus:
    def __init__(self, root: Path, hours: float, positives: int, seed: int = 19,
                 positives_seed: int = 19):
        self.root = root
        self.hours = hours
        self.positives = positives
        self.seed = seed
        self.positives_seed = positives_seed
        self.synth = Synth()
        self._texts: list[str] | None = None
        self._cursor = 0

    def next_texts(self, seconds: float, wpm: float) -> list[str]:
        if self._texts is None:
            self._texts = texts()
        words, out = 0.0, []
        while words < seconds * wpm / 60:
            text = self._texts[self._cursor % len(self._texts)]
            self._cursor += 1
            out.append(text)
            words += len(text.split())
        return out

    def speech(self, voice: Voice, seconds: float, rng: random.Random) -> np.ndarray:
        """About ``seconds`` of one voice: sentences with pauses of 0.2-1.0 s."""
        wpm = voice.speed_wpm if voice.engine == "espeak" else 170 / voice.length_scale
        parts: list[np.ndarray] = []
        if voice.engine == "espeak":  # one call per paragraph of ~10 sentences: fast
            sentences = self.next_texts(seconds, wpm)
            for i in range(0, len(sentences), 10):
                parts.append(self.synth.say(voice, " ".join(sentences[i:i + 10])))
                parts.append(np.zeros(int(rng.uniform(0.2, 1.0) * RATE), np.float32))
        else:
            for text in self.next_texts(seconds, wpm):
                parts.append(self.synth.say(voice, text))
                parts.append(np.zeros(int(rng.uniform(0.2, 1.0) * RATE), np.float32))
        return np.concatenate(parts)[: int(seconds * RATE)]

    def negatives(self) -> list[Path]:
        folder = self.root / "negatives"
        folder.mkdir(parents=True, exist_ok=True)
        n_files = max(1, round(self.hours * 3600 / NEG_FILE_S))
        kinds = ("monologue", "piper", "dialogue", "music_speech", "babble", "monologue",
                 "dialogue", "piper_music", "music")
        paths = []
        for i in range(n_files):
            kind = kinds[i % len(kinds)]
            path = folder / f"{i:03d}_{kind}.wav"
            paths.append(path)
            if path.is_file():
                continue
            rng = random.Random(self.seed * 1000 + i)
            nrng = np.random.default_rng(self.seed * 1000 + i)
            started = time.perf_counter()
            x, voices = self._negative(kind, rng, nrng)
            write_wav(path, Pcm(to_pcm(x), RATE))
            path.with_suffix(".txt").write_text("\n".join(voices) + "\n")
            print(f"  {path.name}: {len(x) / RATE:.0f} s in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)
        human = self.root / "negatives" / "human.wav"
        if not human.is_file():
            self._human(human)
        if human.is_file():
            paths.append(human)
        return paths

    def _piper_voice(self, rng: random.Random) -> Voice:
        return Voice("piper", length_scale=rng.choice([0.85, 1.0, 1.2]),
                     noise_scale=rng.choice([0.5, 0.667, 0.9]))

    def _negative(self, kind: str, rng: random.Random, nrng: np.random.Generator
                  ) -> tuple[np.ndarray, list[str]]:
        seconds = NEG_FILE_S
        if kind == "music":
            return music(seconds, nrng), ["music"]
        if kind in ("piper", "piper_music"):
            piper_s = seconds / 2 if kind == "piper" else seconds / 3  # Piper is the slow one
            voice = self._piper_voice(rng)
            x = np.concatenate([self.speech(voice, piper_s, rng),
                                self.speech(random_espeak(rng), seconds - piper_s, rng)])
            voices = [voice.label(), "espeak"]
            if kind == "piper_music":
                x = mix_at(x, music(seconds, nrng), 5.0)
            return x, voices
        if kind == "dialogue":
            a, b = random_espeak(rng), random_espeak(rng)
            parts = []
            total = 0.0
            while total < seconds:
                voice = a if len(parts) % 2 == 0 else b
                turn = self.speech(voice, rng.uniform(3, 15), rng)
                parts += [turn, np.zeros(int(rng.uniform(0.1, 0.6) * RATE), np.float32)]
                total += (len(turn) / RATE) + 0.3
            return np.concatenate(parts)[: int(seconds * RATE)], [a.label(), b.label()]
        if kind == "babble":
            voices = [random_espeak(rng) for _ in range(3)]
            streams = [self.speech(v, seconds, rng) for v in voices]
            n = min(len(s) for s in streams)
            return level(sum(s[:n] for s in streams)), [v.label() for v in voices]
        voice = random_espeak(rng)
        x = self.speech(voice, seconds, rng)
        if kind == "music_speech":
            x = mix_at(x, music(seconds, nrng), 5.0)
        return x, [voice.label()]

    def _human(self, path: Path) -> None:
        """The real people of scripts/human_speech.py, one after the other (a minute or so)."""
        try:
            from human_speech import human_set  # type: ignore[import-not-found]

            clips = human_set()
        except Exception as error:  # a bench without apt still runs: say so
            print(f"  no human clips ({error})", file=sys.stderr)
            return
        parts = []
        for clip in clips:
            pcm = read_wav(clip.path)
            parts += [level(np.frombuffer(pcm.audio, "<i2").astype(np.float32)),
                      np.zeros(RATE // 2, np.float32)]
        write_wav(path, Pcm(to_pcm(np.concatenate(parts)), RATE))

    def positive_voices(self, model: str) -> list[Voice]:
        rng = random.Random(f"{self.positives_seed}:{model}")
        voices = [Voice("piper", length_scale=ls, noise_scale=ns)
                  for ls in (0.75, 0.85, 1.0, 1.15, 1.3) for ns in (0.5, 0.667, 0.9)]
        while len(voices) < self.positives:
            voices.append(random_espeak(rng))
        return voices[: self.positives]

    def positives_for(self, model: str) -> dict[str, list[tuple[Path, float, float, str]]]:
        """condition -> [(wav, phrase start s, phrase end s, voice)]."""
        seed = self.positives_seed
        folder = self.root / ("positives" if seed == 19 else f"positives-seed{seed}") / model
        manifest = folder / "manifest.json"
        if manifest.is_file():
            data = json.loads(manifest.read_text())
            return {c: [(folder / f, s, e, v) for f, s, e, v in rows] for c, rows in data.items()}
        folder.mkdir(parents=True, exist_ok=True)
        rng = random.Random(f"{seed}:{model}:clips")
        nrng = np.random.default_rng(abs(hash(model)) % 2**32)
        babble_voices = [random_espeak(rng) for _ in range(3)]
        babble = level(sum(self.speech(v, 120, rng)[: 110 * RATE] for v in babble_voices))
        data: dict[str, list[tuple[str, float, float, str]]] = {"clean": [], "noise_10db": [],
                                                                 "babble_10db": []}
        for k, voice in enumerate(self.positive_voices(model)):
            phrase = self.synth.say(voice, PHRASES[model])
            request = self.synth.say(voice, self.next_texts(2, 150)[0])
            lead = rng.uniform(0.8, 1.5)
            x = np.concatenate([np.zeros(int(lead * RATE), np.float32), phrase,
                                np.zeros(int(rng.uniform(0.2, 0.6) * RATE), np.float32),
                                request, np.zeros(RATE, np.float32)])
            start, end = lead, lead + len(phrase) / RATE
            floor = nrng.standard_normal(len(x)).astype(np.float32) * 3  # ~-80 dBFS: a quiet room
            noise = np.resize(pink(len(x) / RATE, nrng) if k % 2 else music(len(x) / RATE, nrng),
                              len(x))
            phrase_only = x[int(start * RATE): int(end * RATE)]
            gain_ref = active_rms(phrase_only)
            for condition, y in (
                ("clean", x + floor),
                ("noise_10db", x + noise * gain_ref / active_rms(noise) / 10 ** 0.5),
                ("babble_10db", x + np.resize(babble[int(nrng.integers(0, len(babble) - len(x))):],
                                              len(x)) * gain_ref / active_rms(babble) / 10 ** 0.5),
            ):
                name = f"{condition}_{k:03d}.wav"
                write_wav(folder / name, Pcm(to_pcm(y), RATE))
                data[condition].append((name, start, end, voice.label()))
        manifest.write_text(json.dumps(data, indent=0))
        return {c: [(folder / f, s, e, v) for f, s, e, v in rows] for c, rows in data.items()}

    def near_misses_for(self, model: str) -> list[tuple[Path, str, str]]:
        """[(wav, sentence, voice)]: NEAR_MISSES[model], each by every near-miss voice."""
        folder = self.root / "near_misses" / model
        manifest = folder / "manifest.json"
        if manifest.is_file():
            return [(folder / f, t, v) for f, t, v in json.loads(manifest.read_text())]
        folder.mkdir(parents=True, exist_ok=True)
        rng = random.Random(f"{self.seed}:{model}:near")
        voices = [Voice("piper", length_scale=ls, noise_scale=ns)
                  for ls in (0.85, 1.15) for ns in (0.5, 0.9)]
        voices += [random_espeak(rng) for _ in range(8)]
        rows = []
        for i, text in enumerate(NEAR_MISSES[model]):
            for j, voice in enumerate(voices):
                name = f"{i:02d}_{j:02d}.wav"
                x = np.concatenate([np.zeros(RATE, np.float32), self.synth.say(voice, text),
                                    np.zeros(RATE, np.float32)])
                floor = np.random.default_rng(i * 100 + j).standard_normal(len(x)) * 3
                write_wav(folder / name, Pcm(to_pcm(x + floor.astype(np.float32)), RATE))
                rows.append((name, text, voice.label()))
        manifest.write_text(json.dumps(rows, indent=0))
        return [(folder / f, t, v) for f, t, v in rows]


# -- score traces ----------------------------------------------------------------------------------

class _Recorder:
    """Stands in for a detector's decision: keeps every probability with its stream time."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.probs: list[float] = []
        self.threshold = 1.0
        self.refractory_s = 0.0

    def decide(self, probability: float, stream_s: float) -> bool:
        self.times.append(stream_s)
        self.probs.append(float(probability))
        return False

    def reset(self) -> None:
        pass

    def configure(self, config: object) -> None:
        pass


def chunks(audio: bytes) -> Iterator[tuple[bytes, float]]:
    for i in range(0, len(audio), CHUNK_BYTES):
        piece = audio[i:i + CHUNK_BYTES]
        yield piece, (i + len(piece)) / (2 * RATE)


def micro_trace(detector: MicroWakeWordDetector, audio: bytes) -> np.ndarray:
    detector.reset()
    recorder = _Recorder()
    detector._gate = recorder  # type: ignore[assignment]
    for piece, stream_s in chunks(audio):
        detector.process(piece, stream_s)
    return np.array([recorder.times, recorder.probs], dtype=np.float32)


def oww_traces(detectors: dict[str, OpenWakeWordDetector], audio: bytes) -> dict[str, np.ndarray]:
    """One front end (mel + embedding) for all openWakeWord models, as each computes alone."""
    front = next(iter(detectors.values()))
    for d in detectors.values():
        d.reset()
    rows: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m in detectors}
    for piece, stream_s in chunks(audio):
        for embeddings in front._features.process_streaming(piece):
            for m, d in detectors.items():
                for probability in d._model.process_streaming(embeddings):
                    rows[m][0].append(stream_s)
                    rows[m][1].append(float(probability))
    return {m: np.array(r, dtype=np.float32) for m, r in rows.items()}


class Traces:
    """Score traces per (engine:model, file), cached as .npy beside the corpus."""

    def __init__(self, root: Path):
        self.root = root / "traces"
        self._micro: dict[str, MicroWakeWordDetector] = {}
        self._oww: dict[str, OpenWakeWordDetector] | None = None

    def path(self, key: str, wav: Path) -> Path:
        return self.root / key.replace(":", "_") / f"{wav.parent.name}_{wav.stem}.npy"

    def get(self, keys: list[str], wav: Path) -> dict[str, np.ndarray]:
        out = {k: np.load(self.path(k, wav)) for k in keys if self.path(k, wav).is_file()}
        missing = [k for k in keys if k not in out]
        if not missing:
            return out
        audio = read_wav(wav).audio
        for key in missing:
            engine, model = key.split(":")
            if engine == "micro":
                if model not in self._micro:
                    self._micro[model] = MicroWakeWordDetector(model)
                out[key] = micro_trace(self._micro[model], audio)
        oww = [k for k in missing if k.startswith("oww:")]
        if oww:
            if self._oww is None:
                self._oww = {m: OpenWakeWordDetector(m) for m in OWW_MODELS}
            traces = oww_traces({k.split(":")[1]: self._oww[k.split(":")[1]] for k in oww}, audio)
            out.update({f"oww:{m}": t for m, t in traces.items()})
        for key in missing:
            self.path(key, wav).parent.mkdir(parents=True, exist_ok=True)
            np.save(self.path(key, wav), out[key])
        return out


# -- decisions -------------------------------------------------------------------------------------

def decisions(trace: np.ndarray, threshold: float, min_frames: int = 1,
              refractory_s: float = 2.0) -> list[float]:
    """The stream times at which the engine's own rule fires on this trace."""
    rule = WakeDecision(threshold, refractory_s, min_frames)
    return [float(t) for t, p in zip(trace[0], trace[1]) if rule.decide(float(p), float(t))]


def confirmed(times: list[float], other: np.ndarray, threshold: float,
              either: bool = False) -> list[float]:
    """The engine's ``SecondOpinion`` replayed: the first model's detections at ``times``, the
    second's scores ``other``, chunk by chunk in stream order (the first model, then the second,
    then the decision, as ``ConfirmedWakeDetector.process`` does); ``either``: one alone wakes."""
    opinion = SecondOpinion(threshold, either=either)
    firsts = set(times)
    scores: dict[float, list[float]] = {}
    for t, p in zip(other[0].tolist(), other[1].tolist()):
        scores.setdefault(t, []).append(p)
    out = []
    for t in sorted(firsts | set(scores)):
        if t in firsts:
            opinion.first(t)
        for p in scores.get(t, ()):
            opinion.second(p, t)
        if opinion.decide(t):
            out.append(t)
    return out


# -- the run ---------------------------------------------------------------------------------------

@dataclass
class Setting:
    label: str
    threshold: float
    min_frames: int = 1
    confirm: str = ""  # another model's key whose score must agree
    confirm_threshold: float = 0.5
    either: bool = False  # with confirm: the other model alone at confirm_threshold also wakes


def model_settings(key: str, cutoff: float, stricter: float) -> list[Setting]:
    settings = [Setting(f"cutoff {cutoff:g} (default)", cutoff),
                Setting(f"cutoff {stricter:g}", stricter)]
    for n in (2, 3, 5):
        settings.append(Setting(f"cutoff {cutoff:g}, {n} frames in a row", cutoff, n))
    engine, model = key.split(":")
    if engine == "micro":
        settings.append(Setting(f"cutoff {cutoff:g} + openWakeWord {model} >= 0.5", cutoff,
                                confirm=f"oww:{model}", confirm_threshold=0.5))
        settings.append(Setting(f"cutoff {cutoff:g} + openWakeWord {model} >= 0.2", cutoff,
                                confirm=f"oww:{model}", confirm_threshold=0.2))
        settings.append(Setting(f"cutoff 0.5 + openWakeWord {model} >= 0.5", 0.5,
                                confirm=f"oww:{model}", confirm_threshold=0.5))
        settings.append(Setting(f"cutoff {cutoff:g} or openWakeWord {model} >= 0.5", cutoff,
                                confirm=f"oww:{model}", confirm_threshold=0.5, either=True))
    return settings


def evaluate(setting: Setting, traces: dict[str, np.ndarray], key: str) -> list[float]:
    times = decisions(traces[key], setting.threshold, setting.min_frames)
    if setting.confirm:
        times = confirmed(times, traces[setting.confirm], setting.confirm_threshold,
                          setting.either)
    return times


def run(args: argparse.Namespace) -> dict:
    root = Path(args.cache)
    corpus = Corpus(root, args.hours, args.positives, positives_seed=args.positives_seed)
    started = time.perf_counter()
    print("negatives…", file=sys.stderr, flush=True)
    negatives = corpus.negatives()
    print("positives…", file=sys.stderr, flush=True)
    positives = {m: corpus.positives_for(m) for m in PHRASES}
    near = {m: corpus.near_misses_for(m) for m in NEAR_MISSES if m in args.micro}
    built_s = time.perf_counter() - started
    neg_hours = sum(len(read_wav(p).audio) / (2 * RATE) for p in negatives) / 3600
    keys = [f"micro:{m}" for m in args.micro] + [f"oww:{m}" for m in args.oww]
    needed = sorted(set(keys) | {f"oww:{k.split(':')[1]}" for k in keys
                                 if k.startswith("micro:") and args.confirm})
    traces = Traces(root)
    started = time.perf_counter()
    print(f"scoring {len(needed)} models over {neg_hours:.2f} h of negatives…", file=sys.stderr,
          flush=True)
    neg_traces = {p: traces.get(needed, p) for p in negatives}
    pos_traces = {m: {c: [(traces.get([k for k in needed if k.split(':')[1] == m], w), s, e, v)
                          for w, s, e, v in rows] for c, rows in conds.items()}
                  for m, conds in positives.items()}
    near_traces = {m: [(traces.get([f"micro:{m}"], w)[f"micro:{m}"], text)
                       for w, text, _ in rows] for m, rows in near.items()}
    scored_s = time.perf_counter() - started
    results = []
    for key in keys:
        engine, model = key.split(":")
        if engine == "micro":
            cutoff = MicroWakeWordDetector(model).model_cutoff
            stricter = min(0.99, round(cutoff + (1 - cutoff) / 2, 2))
        else:
            cutoff, stricter = 0.5, 0.7
        for setting in model_settings(key, cutoff, stricter):
            if setting.confirm and setting.confirm not in needed:
                continue
            false = {p.stem: evaluate(setting, t, key) for p, t in neg_traces.items()}
            count = sum(len(times) for times in false.values())
            own = sum(1 for name, times in false.items() for t in times
                      if name.endswith("_piper") and t < NEG_FILE_S / 2
                      or name.endswith("_piper_music") and t < NEG_FILE_S / 3)
            row = {"model": key, "setting": setting.label, "false_wakes": count,
                   "per_hour": count / neg_hours, "piper_false_wakes": own, "by_file": false}
            if model in pos_traces:
                for condition, clips in pos_traces[model].items():
                    hits = []
                    for t, start, end, voice in clips:
                        times = evaluate(setting, t, key)
                        hits.append((any(start <= x <= end + RECALL_WINDOW_S for x in times), voice))
                    row[condition] = sum(h for h, _ in hits) / len(hits)
                    row[f"{condition}_piper"] = _share(h for h, v in hits if v.startswith("piper"))
                    row[f"{condition}_espeak"] = _share(h for h, v in hits if v.startswith("espeak"))
                    row[f"{condition}_missed"] = [v for h, v in hits if not h]
            if model in near_traces and engine == "micro":
                woke = [text for t, text in near_traces[model] if evaluate(setting, {key: t}, key)]
                row["near_misses"], row["near_total"] = len(woke), len(near_traces[model])
            results.append(row)
            print(_row_line(row), file=sys.stderr, flush=True)
    if args.check:
        results += check_rows(root, neg_traces, positives, pos_traces, near, near_traces,
                              args.micro)
    piper_hours = sum(NEG_FILE_S / 2 if p.stem.endswith("_piper") else NEG_FILE_S / 3
                      for p in negatives if "_piper" in p.stem) / 3600
    return {"negative_hours": neg_hours, "piper_hours": piper_hours,
            "negative_files": len(negatives),
            "positives_per_condition": args.positives, "build_s": built_s, "score_s": scored_s,
            "results": results}


def check_rows(root: Path, neg_traces: dict, positives: dict, pos_traces: dict, near: dict,
               near_traces: dict, models: list[str]) -> list[dict]:
    """Whisper's check (``wake.check``) at each bar of ``CHECK_BARS``, for the measured models."""
    from satellite.config.schema import SttConfig
    from satellite.engines.stt import WhisperStt
    from satellite.room.wake_check import CHECK_BEFORE_S, MEASURED, SURE_FROM, SURE_MARGIN, readings

    stt: WhisperStt | None = None
    cache_path = root / "checks.json"
    cache: dict[str, list] = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    rows = []
    for model in [m for m in models if m in MEASURED]:
        key = f"micro:{model}"
        cutoff = MicroWakeWordDetector(model).model_cutoff
        phrases = readings(model, SHIPPED_PHRASES[model])
        read = 0

        def odds(wav: Path, trace: np.ndarray, cutoff: float = cutoff, check_from: float =
                 MEASURED[model], phrases: tuple[str, ...] = phrases
                 ) -> list[tuple[float, float, float]]:
            """(where it fired, log-odds, peak score) for each candidate the engine's rule makes."""
            nonlocal stt, read
            rule = WakeDecision(cutoff, 2.0, check_from=check_from)
            out = []
            audio: bytes | None = None
            for t, p in zip(trace[0].tolist(), trace[1].tolist(), strict=True):
                if not rule.decide(p, t):
                    continue
                candidate = rule.candidate
                assert candidate is not None
                name = f"{wav.relative_to(root)}:{candidate.start_s:.2f}:{candidate.end_s:.2f}"
                if name not in cache:
                    if stt is None:
                        stt = WhisperStt(SttConfig())
                    audio = audio if audio is not None else read_wav(wav).audio
                    first = max(0, round((candidate.start_s - CHECK_BEFORE_S) * RATE)) * 2
                    window = Pcm(audio[first:round(candidate.end_s * RATE) * 2], RATE)
                    cache[name] = [candidate.fired_s, stt.phrase_odds(window, phrases).logodds]
                    read += 1
                out.append((cache[name][0], cache[name][1], candidate.peak))
            return out

        started = time.perf_counter()
        neg = {p: odds(p, t[key]) for p, t in neg_traces.items()}
        pos = {c: [(odds(w, tr[key]), s, e, v) for (tr, s, e, v), (w, *_) in zip(
            clips, positives[model][c], strict=True)] for c, clips in pos_traces[model].items()}
        near_odds = [odds(w, t) for (w, _, _), (t, _) in zip(near[model], near_traces[model],
                                                             strict=True)]
        cache_path.write_text(json.dumps(cache))
        print(f"check: {read} candidates read in {time.perf_counter() - started:.0f} s",
              file=sys.stderr, flush=True)
        sure_from = SURE_FROM.get(model)
        rules = [(bar, None) for bar in CHECK_BARS] + ([(bar, sure_from) for bar in CHECK_BARS]
                                                        if sure_from is not None else [])
        for bar, sure in rules:
            def wakes(o: float, peak: float, bar: float = bar, sure: float | None = sure) -> bool:
                return o >= (bar - SURE_MARGIN if sure is not None and peak >= sure else bar)
            label = f"check from {MEASURED[model]:g}, log-odds >= {bar:g}"
            if sure is not None:
                label += f" (>= {bar - SURE_MARGIN:g} where the model scores >= {sure:g})"
            row: dict = {"model": key, "setting": label}
            row["false_wakes"] = sum(wakes(o, pk) for found in neg.values() for _, o, pk in found)
            row["per_hour"] = row["false_wakes"] / max(1e-9, sum(float(t[key][0][-1])
                                                                 for t in neg_traces.values()) / 3600)
            for condition, clips in pos.items():
                hits = [any(wakes(o, pk) and s <= f <= e + RECALL_WINDOW_S for f, o, pk in found)
                        for found, s, e, _ in clips]
                row[condition] = sum(hits) / len(hits)
            row["near_misses"] = sum(any(wakes(o, pk) for _, o, pk in found) for found in near_odds)
            row["near_total"] = len(near_odds)
            rows.append(row)
            print(_row_line(row), file=sys.stderr, flush=True)
    return rows


def _share(hits: Iterator[bool]) -> float | None:
    values = list(hits)
    return sum(values) / len(values) if values else None


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f} %"


def _row_line(row: dict) -> str:
    recall = " | ".join(_pct(row.get(c)) for c in ("clean", "noise_10db", "babble_10db"))
    near = (f"{row['near_misses']}/{row['near_total']}" if "near_misses" in row else "–")
    return (f"| {row['model']} | {row['setting']} | {row['false_wakes']} | {row['per_hour']:.2f} "
            f"| {recall} | {near} |")


def report(result: dict) -> str:
    lines = [f"Negatives: {result['negative_hours']:.2f} h in {result['negative_files']} files; "
             f"positives: {result['positives_per_condition']} per phrase and condition.", "",
             "| model | setting | false wakes | per hour | recall clean | 10 dB noise | "
             "10 dB babble | near misses woken |", "|---|---|---|---|---|---|---|---|"]
    lines += [_row_line(r) for r in result["results"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", default=str(cache_dir()))
    parser.add_argument("--hours", type=float, default=3.0, help="negative speech to build")
    parser.add_argument("--positives", type=int, default=40, help="clips per phrase and condition")
    parser.add_argument("--micro", nargs="*", default=list(MICRO_MODELS))
    parser.add_argument("--oww", nargs="*", default=list(OWW_MODELS))
    parser.add_argument("--no-confirm", dest="confirm", action="store_false",
                        help="skip the second opinion of openWakeWord on microWakeWord's detections")
    parser.add_argument("--check", action="store_true",
                        help="measure Whisper's check of the wake word (wake.check) too")
    parser.add_argument("--positives-seed", type=int, default=19,
                        help="another seed builds other positives (held out from tuning)")
    parser.add_argument("--json", help="write every figure here")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)
    print(f"# {platform.node()} {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    result = run(args)
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
