"""The room the benchmarks play to ``satellite run``: a microphone command and a speaker command.

Both are small Python programs run by the daemon, outside its process, that write wall-clock
times: the microphone when the voice of each question ended (its marks), the speaker when each
reply's first byte arrived. Their differences are what a person in the room would measure.

    mic.py AUDIO MARKS LOG [GO]   16 kHz PCM paced 20 ms at a time; MARKS is [[byte, label], …];
                                  LOG gets "label time" lines; with GO, silence until that file exists
    speaker.py LOG [RATE_HZ]      LOG gets the first byte's time; with RATE_HZ, read at the audio's
                                  own rate (the room is gated while the box talks, as with a speaker)
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import numpy as np

from satellite.audio import Pcm, to_stt_format
from satellite.engines.tts import TextToSpeech

FRAME_S = 0.02
RATE_HZ = 16000
MIC = textwrap.dedent("""
    import json, os, sys, time
    audio = open(sys.argv[1], "rb").read()
    marks = json.load(open(sys.argv[2]))
    log = open(sys.argv[3], "w")
    go = sys.argv[4] if len(sys.argv) > 4 else None
    frame = int(16000 * 0.02) * 2
    out = sys.stdout.buffer
    start, n = time.monotonic(), 0
    while go and not os.path.exists(go):  # silence until the bench says go
        delay = start + n * 0.02 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        out.write(bytes(frame)); out.flush(); n += 1
    start = time.monotonic()
    for n, i in enumerate(range(0, len(audio), frame)):
        delay = start + n * 0.02 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        out.write(audio[i:i + frame]); out.flush()
        for offset, label in marks:
            if i < offset <= i + frame:
                log.write(f"{label} {time.time()}\\n"); log.flush()
""")
SPEAKER = textwrap.dedent("""
    import sys, time
    rate_bytes = int(sys.argv[2]) * 2 if len(sys.argv) > 2 else 0
    first = sys.stdin.buffer.read(1)
    if first:
        with open(sys.argv[1], "a") as log:
            log.write(f"{time.time()}\\n")
    start, played = time.monotonic(), 1
    while data := sys.stdin.buffer.read(4096):
        played += len(data)
        delay = start + played / rate_bytes - time.monotonic() if rate_bytes else 0
        if delay > 0:
            time.sleep(delay)
""")


def room_impulse(rate_hz: int = RATE_HZ, delay_ms: float = 40.0, gain_db: float = -6.0,
                 tail_ms: float = 150.0, seed: int = 0) -> np.ndarray:
    """The speaker-to-microphone path of a small room: the direct sound ``delay_ms`` after it
    was played, ``gain_db`` below it, then a reverberation tail of decaying noise that falls by
    60 dB over ``tail_ms`` (its energy 6 dB under the direct sound's)."""
    delay = int(rate_hz * delay_ms / 1000)
    tail = max(1, int(rate_hz * tail_ms / 1000))
    decay = np.exp(-6.9 * np.arange(tail) / tail)  # -60 dB at the end
    reverb = np.random.default_rng(seed).standard_normal(tail) * decay
    reverb *= 0.5 / max(1e-9, float(np.sqrt(np.sum(reverb ** 2))))
    response = np.zeros(delay + 1 + int(rate_hz * 0.003) + tail)
    response[delay] = 1.0
    start = delay + 1 + int(rate_hz * 0.003)  # first reflections 3 ms after the direct sound
    response[start:start + tail] += reverb
    return response * 10 ** (gain_db / 20)


class EchoPath:
    """Streaming convolution with ``room_impulse``: played samples in, what the mic hears out."""

    def __init__(self, response: np.ndarray):
        self.response = response
        self._history = np.zeros(len(response) - 1)

    def feed(self, played: np.ndarray) -> np.ndarray:
        """The echo of ``played`` (float samples) as heard while they play, same length."""
        signal = np.concatenate([self._history, played])
        self._history = signal[len(signal) - len(self._history):] if len(self._history) else signal[:0]
        return np.convolve(signal, self.response, mode="valid")


def echo_of(played: np.ndarray, response: np.ndarray) -> np.ndarray:
    """The whole echo of ``played`` (same length), offline."""
    return np.convolve(played.astype(np.float64), response)[:len(played)]


class Room:
    """The two commands written into ``work``, and what they noted."""

    def __init__(self, work: Path):
        self.work = work
        (work / "mic.py").write_text(MIC)
        (work / "speaker.py").write_text(SPEAKER)
        self.voiced, self.heard = work / "voiced.log", work / "heard.log"

    def mic_command(self, audio: Pcm, marks: list[tuple[int, str]], go: Path | None = None) -> str:
        """The daemon's ``--mic-command`` playing ``audio``, with fresh logs."""
        (self.work / "audio.raw").write_bytes(audio.audio)
        (self.work / "marks.json").write_text(json.dumps(marks))
        for log in (self.voiced, self.heard):
            log.unlink(missing_ok=True)
        return (f"{sys.executable} {self.work / 'mic.py'} {self.work / 'audio.raw'} "
                f"{self.work / 'marks.json'} {self.voiced}" + (f" {go}" if go else ""))

    def speaker_command(self, rate_hz: int = 0) -> str:
        """The daemon's ``--snd-command``; ``rate_hz`` paces it like a speaker (0: as fast as sent)."""
        paced = f" {rate_hz}" if rate_hz else ""
        return f"{sys.executable} {self.work / 'speaker.py'} {self.heard}{paced}"

    def marks(self) -> list[tuple[str, float]]:
        """(label, wall time) of each mark the microphone played."""
        lines = self.voiced.read_text().split("\n") if self.voiced.exists() else []
        return [(label, float(t)) for label, t in (line.split() for line in lines if line.strip())]

    def replies(self) -> list[float]:
        """The wall time of each reply's first byte."""
        return [float(x) for x in self.heard.read_text().split()] if self.heard.exists() else []


def last_voiced_byte(pcm: Pcm, level: int = 300) -> int:
    """The byte just after the last sample above ``level``: where the voice ends."""
    loud = np.nonzero(np.abs(pcm.samples()) > level)[0]
    return int(loud[-1] + 1) * 2 if len(loud) else len(pcm.audio)


def spoken(tts: TextToSpeech, text: str) -> Pcm:
    """``text`` in the voice, as the microphone hears it (16 kHz)."""
    blocks = list(tts.synthesize(text, None))
    return to_stt_format(Pcm(b"".join(b.audio for b in blocks), blocks[0].rate_hz))
