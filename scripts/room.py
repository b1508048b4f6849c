"""The room the benchmarks play to ``satellite run``: a microphone command and a speaker command.

Both are small Python programs run by the daemon, outside its process, that write wall-clock
times: the microphone when the voice of each question ended (its marks), the speaker when each
reply's first byte arrived. Their differences are what a person in the room would measure.

    mic.py AUDIO MARKS LOG [GO]   16 kHz PCM paced 20 ms at a time; MARKS is [[byte, label], …];
                                  LOG gets "label time" lines; with GO, silence until that file exists
    speaker.py LOG [RATE_HZ]      LOG gets the first byte's time; with RATE_HZ, read at the audio's
                                  own rate (the room is gated while the box talks, as with a speaker)

With ``Room(work, echo=RoomEcho(...))`` the room also hears the box (#19, part 5): the speaker
command writes each block it plays onto a shared timeline file at the wall-clock time it sounds
(16 kHz samples since the room's epoch; a pipe that runs dry is silence, as on a real speaker),
and the microphone command mixes into each 20 ms frame what the timeline held, convolved with
``room_impulse`` (delay, attenuation, a reverberation tail), plus background noise, over the
person's speech; it also writes the echo it added (ECHO_LOG, raw 16 kHz) so the echo's level at
the microphone is known from outside the daemon.

    echo_mic.py AUDIO MARKS LOG GO|- ROOM_JSON     as mic.py, with the echo and the noise
    echo_speaker.py LOG RATE_HZ ROOM_JSON           as speaker.py (paced), onto the timeline
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
from dataclasses import dataclass
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


ECHO_MIC = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np
    audio = np.frombuffer(open(sys.argv[1], "rb").read(), dtype=np.int16).astype(np.float64)
    marks = json.load(open(sys.argv[2]))
    log = open(sys.argv[3], "w")
    go = None if sys.argv[4] == "-" else sys.argv[4]
    room = json.load(open(sys.argv[5]))
    response = np.load(room["response"])
    rate, frame = 16000, 320
    epoch, history = room["epoch"], len(response) - 1
    timeline = os.open(room["timeline"], os.O_RDONLY)  # unbuffered: the speaker writes it meanwhile
    echo_log = open(room["echo_log"], "wb")
    noise = np.random.default_rng(room.get("seed", 0))
    noise_rms = 32768 * 10 ** (room["noise_dbfs"] / 20) if room["noise_dbfs"] is not None else 0.0
    out = sys.stdout.buffer

    def heard(now):
        # what the speaker played over the frame that ends now, and the tail before it
        end = int(round((now - epoch) * rate))
        start = end - frame - history
        got = np.frombuffer(os.pread(timeline, (end - max(0, start)) * 2, max(0, start) * 2),
                            dtype=np.int16)
        played = np.zeros(frame + history)
        played[max(0, -start):max(0, -start) + len(got)] = got
        return np.convolve(played, response, mode="valid")

    def send(voice, now):
        echo = heard(now)
        mixed = voice + echo + (noise.standard_normal(frame) * noise_rms if noise_rms else 0.0)
        echo_log.write(np.clip(np.round(echo), -32768, 32767).astype(np.int16).tobytes())
        out.write(np.clip(np.round(mixed), -32768, 32767).astype(np.int16).tobytes()); out.flush()

    # Each frame is what the room sounded like over the 20 ms before its nominal time (the
    # microphone's own clock), whenever this process gets to send it.
    start, wall, n = time.monotonic(), time.time(), 0
    while go and not os.path.exists(go):
        delay = start + n * 0.02 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        send(np.zeros(frame), wall + n * 0.02); n += 1
    start, wall = start + n * 0.02, wall + n * 0.02
    for n, i in enumerate(range(0, len(audio), frame)):
        delay = start + n * 0.02 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        voice = np.zeros(frame)
        chunk = audio[i:i + frame]
        voice[:len(chunk)] = chunk
        send(voice, wall + n * 0.02)
        for offset, label in marks:
            if 2 * i < offset <= 2 * (i + frame):
                log.write(f"{label} {time.time()}\\n"); log.flush()
""")
ECHO_SPEAKER = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np
    rate_in = int(sys.argv[2])
    room = json.load(open(sys.argv[3]))
    epoch = room["epoch"]
    timeline = os.open(room["timeline"], os.O_WRONLY)
    log_first = True
    sounds_until, pending = 0.0, b""
    while data := sys.stdin.buffer.read(4096):
        now = time.time()
        if log_first:
            with open(sys.argv[1], "a") as log:
                log.write(f"{now}\\n")
            log_first = False
        pending += data
        whole = len(pending) // 2 * 2
        samples, pending = np.frombuffer(pending[:whole], dtype=np.int16), pending[whole:]
        if not len(samples):
            continue
        starts = max(sounds_until, now)  # a pipe that ran dry was silence
        if rate_in != 16000:
            at = np.arange(0, len(samples), rate_in / 16000)
            samples = np.interp(at, np.arange(len(samples)), samples).astype(np.int16)
        os.pwrite(timeline, samples.tobytes(), int(round((starts - epoch) * 16000)) * 2)
        sounds_until = starts + len(samples) / 16000
        delay = sounds_until - 0.1 - time.time()  # a device's buffer: 100 ms queued ahead
        if delay > 0:
            time.sleep(delay)
    time.sleep(max(0.0, sounds_until - time.time()))  # the last of it plays out before the exit
""")


@dataclass(frozen=True)
class RoomEcho:
    """How the box's own voice comes back into the microphone, and the room's noise."""

    delay_ms: float = 40.0
    gain_db: float = -6.0
    tail_ms: float = 150.0
    noise_dbfs: float | None = -55.0  # white noise under everything; None = none


class Room:
    """The two commands written into ``work``, and what they noted."""

    def __init__(self, work: Path, echo: RoomEcho | None = None):
        self.work = work
        self.echo = echo
        (work / "mic.py").write_text(MIC)
        (work / "speaker.py").write_text(SPEAKER)
        self.voiced, self.heard = work / "voiced.log", work / "heard.log"
        self.echo_log, self.timeline = work / "echo.raw", work / "timeline.raw"
        if echo is not None:
            (work / "echo_mic.py").write_text(ECHO_MIC)
            (work / "echo_speaker.py").write_text(ECHO_SPEAKER)
            np.save(work / "response.npy", room_impulse(RATE_HZ, echo.delay_ms, echo.gain_db, echo.tail_ms))
            self.timeline.write_bytes(b"")
            (work / "room.json").write_text(json.dumps({
                "epoch": time.time(), "timeline": str(self.timeline), "echo_log": str(self.echo_log),
                "response": str(work / "response.npy"), "noise_dbfs": echo.noise_dbfs}))

    def mic_command(self, audio: Pcm, marks: list[tuple[int, str]], go: Path | None = None) -> str:
        """The daemon's ``--mic-command`` playing ``audio``, with fresh logs."""
        (self.work / "audio.raw").write_bytes(audio.audio)
        (self.work / "marks.json").write_text(json.dumps(marks))
        for log in (self.voiced, self.heard):
            log.unlink(missing_ok=True)
        if self.echo is not None:
            return (f"{sys.executable} {self.work / 'echo_mic.py'} {self.work / 'audio.raw'} "
                    f"{self.work / 'marks.json'} {self.voiced} {go or '-'} {self.work / 'room.json'}")
        return (f"{sys.executable} {self.work / 'mic.py'} {self.work / 'audio.raw'} "
                f"{self.work / 'marks.json'} {self.voiced}" + (f" {go}" if go else ""))

    def speaker_command(self, rate_hz: int = 0) -> str:
        """The daemon's ``--snd-command``; ``rate_hz`` paces it like a speaker (0: as fast as sent)."""
        if self.echo is not None:  # always paced: the echo sounds when the speaker plays it
            return (f"{sys.executable} {self.work / 'echo_speaker.py'} {self.heard} {rate_hz or RATE_HZ} "
                    f"{self.work / 'room.json'}")
        paced = f" {rate_hz}" if rate_hz else ""
        return f"{sys.executable} {self.work / 'speaker.py'} {self.heard}{paced}"

    def marks(self) -> list[tuple[str, float]]:
        """(label, wall time) of each mark the microphone played."""
        lines = self.voiced.read_text().split("\n") if self.voiced.exists() else []
        return [(label, float(t)) for label, t in (line.split() for line in lines if line.strip())]

    def echo_heard(self) -> np.ndarray:
        """The echo the microphone mixed in, frame by frame in the order it sent them."""
        return np.frombuffer(self.echo_log.read_bytes(), dtype=np.int16) if self.echo_log.exists() \
            else np.zeros(0, dtype=np.int16)

    def played(self) -> np.ndarray:
        """What the speaker played, 16 kHz on the room's timeline (silence between replies)."""
        return np.frombuffer(self.timeline.read_bytes(), dtype=np.int16)

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
