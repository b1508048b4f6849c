"""Echo cancellation: the microphone's audio with the box's own voice taken out (WebRTC AEC3).

The sink tells the canceller every block it plays and the monotonic time the block starts to
sound (``played``); the canceller keeps those blocks, at the microphone's rate, on a timeline.
Each 10 ms frame of microphone audio is paired with what was playing when the frame was
captured, ``audio.echo_delay_ms`` earlier (the device's latency), and WebRTC's AEC3
(``pywebrtc-audio``, chosen by measurement in docs/benchmarks.md) removes its echo. Noise
suppression and automatic gain control are options of the same pass. While what plays is a few
pure tones (the timer's ring, a chime), the tones are first taken out of the microphone and of
the reference by their frequencies (``tone_removal``) and AEC3 cancels the rest: on the tones
themselves it lost every other ring and ate the words said over them.

When the microphone hears nothing of what the box plays (its speaker in another room, a
headset, a test's room without echo), AEC3 has no echo to learn and treats the person's voice
as one: "Stop." said over a ringing timer came out as nothing, and into silence it adds comfort
noise. So when the microphone, over the last 2 s of the box's sound, was no louder than the room's
floor while the box is silent (its quieter 30 % of frames, as a person may talk over the sound,
against the quietest 10 % of the last 10 s of silence, as a question fills the rest), the audio
passes unchanged; AEC3 still runs on it, so it is ready when an echo appears.

The microphone's capture clock is its stream time (samples counted) mapped to the monotonic
clock by the least delayed arrival over the last seconds, so the jitter of a read does not move
the alignment. When the canceller cannot run, the audio passes unchanged and ``status`` says
why: the library is missing, echo_cancel is off, the box plays nothing that sounds, or the
microphone's audio is not live (a file read faster than real time cannot be aligned with what
plays). The canceller runs on the event loop: AEC3 takes ~0.07 ms of CPU per 10 ms frame.
"""

from __future__ import annotations

import collections
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from satellite.audio.convert import PcmConverter
from satellite.audio.echo_delay import estimate_delay, spectral_flatness
from satellite.audio.pcm import Pcm
from satellite.audio.tone_removal import ToneRemover, tone_frequencies
from satellite.config.schema import AudioConfig

_LOGGER = logging.getLogger(__name__)
RATE_HZ = 16000  # the microphone's audio as the listener gets it
FRAME = RATE_HZ // 100  # AEC3 works on 10 ms frames
KEEP_S = 3.0  # played audio older than this is dropped from the timeline
ARRIVALS_KEPT = 200  # mic reads (4 s of 20 ms reads) over which the capture clock is judged
NOT_LIVE_S = 0.5  # mic audio that runs this far ahead of where it arrived before is not live
SOUNDING_LEVEL = 30.0  # a reference frame with an RMS above this (about -61 dBFS) is sound
SILENT_MIC_LEVEL = 10.0  # RMS (about -70 dBFS): the quietest room floor assumed
ECHO_FRAMES = 200  # the microphone's level over the last 2 s of the box's sound
ECHO_PERCENTILE = 30  # ... its quieter frames (a person talking over a ring fills the louder ones)
ECHO_ABOVE_FLOOR = 2.0  # ... must be this much above the room's floor (6 dB) for an echo to be heard
FRAMES_KEPT = 3000  # energy in and out of the last 30 s of frames (``taken_out_db``)
FLOOR_FRAMES = 1000  # the room's floor: the quieter frames of the last 10 s the box was silent
FLOOR_AFTER_S = 0.5  # (silent this long: the room's echo of its last sound has died away)
FLOOR_PERCENTILE = 10  # (a question fills most of them; the pauses between words are the floor)
# The echo's delay, measured (``echo_delay``): over the last second of the microphone, every half
# second of the box's sound, lags from -0.1 to +0.6 s from the sink's clock searched. The first
# delay found is the one AEC3 converges on (it finds a steady room delay by itself, and moving
# the reference costs it a re-convergence); later, two estimates in a row that agree within 5 ms,
# each with a clear peak, move the reference by how far the delay has moved since - when that is
# 50 ms or more and AEC3 is not coping: it follows moves of up to ~150 ms by itself (32 dB over a
# reply that moved so, offline), and moving the reference under it then costs it a second
# re-convergence (16 dB); a 300 ms move it does not follow (7-11 dB; moved here: 31-32 dB). In
# the room moves of 12-28 ms were measured while a person spoke over the reply (which also
# makes AEC3 look as if it did not cope): those are left to AEC3.
TRACK_WINDOW_S = 1.0
TRACK_EVERY_FRAMES = 50
TRACK_SOUNDING_SHARE = 0.6  # of the window's frames the reference must sound in
MIN_LAG_S, MAX_LAG_S = -0.1, 0.6
MIN_STRENGTH = 8.0
TONAL_FLATNESS = 1e-3  # a reference flatter than speech's 0.007+ is tones: no delay tracked
AGREE_S = 0.005
MOVE_S = 0.050
COPING_DB = 15.0  # echo reduced at least this much over the last second: AEC3 copes
# A player command starved of CPU on a loaded box sounds late from then on, until it exits (the
# room's runs: +68..+96 ms, moved back only seconds into a later reply, every reply between
# barely cancelled). Its lateness is its own: each new player's reference starts where most of
# the last PLAYERS_KEPT players were measured, counting the first delay found twice (so one late
# player is outvoted at once, and a delay that moved for good is followed from the second player
# measured there on).
PLAYERS_KEPT = 3
# A player killed at a barge-in may still sound what its device had queued (a buffer of up to a
# few hundred ms): that much of the reference is kept after the cut. Sound without a reference
# comes out of AEC3 as it went in, at the start of the question said over it ("and set a
# timer", "at ads and bread"); a reference for sound that never came costs nothing measurable
# (offline, 200 ms kept past the echo's end: the same WER).
PLAYED_OUT_S = 0.25
QUIET_AFTER_S = 0.5  # this long without reference sound ends a stretch of echo (one line logged)
# Where the box's sound is heard within LEAD_BELOW_S of the sink's clock, AEC3 is handed the
# reference REFERENCE_LEAD_S ahead of it from then on, so the echo always comes after it. An
# echo exactly as early as its reference (a test's loopback room; a sink whose clock is the
# speaker's, the microphone beside it) is where AEC3 fails: reduced by 2.3 dB in a test run, and
# offline it lost the echo for good a few minutes in (1-4 dB). Later echoes (the room
# simulator's 40 ms, a device's latency) it finds by itself, up to hundreds of ms, and there a
# lead cost the person said over the reply: "stop" over a reply 11 and 13 of 16 with a 20 ms
# lead always on, 13, 14 and 15 of 16 without.
REFERENCE_LEAD_S = 0.02
LEAD_BELOW_S = 0.01
# The box's tones are looked for this far back in what it played (the echo's lag, up to a few
# hundred ms, and the room's tail) and this far ahead (a note about to start is taken out from
# its first echo; seen 60-100 ms late, its first echo stayed in).
TONE_LOOKBACK_S = 0.5
TONE_AHEAD_S = 0.1
# Taken out by frequency only when flatter than this: every window of the ring and the chimes
# measured under 3e-4 (all but their first 20-40 ms under 1e-4), Piper's speech over 2.6e-4 at
# its most tonal ("Okay.", a reply's first 100 ms); at TONAL_FLATNESS speech's vowels passed for
# tones and one reply's echo was reduced by 23 dB instead of 31.
TONES_FLATNESS = 1e-4


class Processor(Protocol):
    """A WebRTC audio processor: one 10 ms frame of near (mic) and far (reference) audio in."""

    def process(self, near: np.ndarray, far: np.ndarray | None = None) -> np.ndarray: ...


def load_processor(echo: bool, noise_level: int, auto_gain: bool) -> Processor:
    """WebRTC's audio processing module; raises ImportError when pywebrtc-audio is missing."""
    from pywebrtc_audio import AudioProcessor

    processor: Processor = AudioProcessor(
        sample_rate=RATE_HZ, echo_cancellation=echo, noise_suppression=noise_level > 0,
        ns_level=max(0, noise_level - 1), auto_gain_control=auto_gain, high_pass_filter=echo)
    return processor


@dataclass(frozen=True)
class EchoStatus:
    """What /status shows as the "echo" component: ready (cancelling), off or degraded, and why."""

    state: str
    detail: str


def decide(wanted: bool, audible_output: bool, library_error: str | None) -> EchoStatus:
    """Whether the echo is cancelled: "ready", or "off" / "degraded" and why (pure)."""
    if not wanted:
        return EchoStatus("off", "audio.echo_cancel is off")
    if not audible_output:
        return EchoStatus("off", "nothing the box plays reaches the room (audio.output is not speaker "
                                 "or command)")
    if library_error is not None:
        return EchoStatus("degraded", f"the echo canceller cannot load: {library_error} "
                                      "(pip install pywebrtc-audio)")
    return EchoStatus("ready", "")


class ReferenceTimeline:
    """What the sink played, at 16 kHz, by the monotonic time each sample sounds."""

    def __init__(self, keep_s: float = KEEP_S):
        self.keep_s = keep_s
        self._blocks: collections.deque[tuple[float, np.ndarray]] = collections.deque()

    def add(self, start_s: float, samples: np.ndarray) -> None:
        """A block that sounds from ``start_s`` (the sink may be seconds ahead of the room)."""
        self._blocks.append((start_s, samples))

    def cut(self, at_s: float) -> None:
        """Nothing sounds from ``at_s`` on (the reply was cut off): later audio is dropped."""
        kept: collections.deque[tuple[float, np.ndarray]] = collections.deque()
        for block_start_s, samples in self._blocks:
            keep = int(round((at_s - block_start_s) * RATE_HZ))
            if keep > 0:
                kept.append((block_start_s, samples[:keep]))
        self._blocks = kept

    def span(self, start_s: float, count: int) -> np.ndarray:
        """``count`` samples of what sounded from ``start_s`` on; silence where nothing played.
        Blocks that ended ``keep_s`` before ``start_s`` are dropped (the microphone's time moves on)."""
        while self._blocks and self._blocks[0][0] + len(self._blocks[0][1]) / RATE_HZ < start_s - self.keep_s:
            self._blocks.popleft()
        out = np.zeros(count, dtype=np.int16)
        for block_start_s, samples in self._blocks:
            first = int(round((block_start_s - start_s) * RATE_HZ))  # block's first sample in out
            lo, hi = max(0, first), min(count, first + len(samples))
            if lo < hi:
                out[lo:hi] = samples[lo - first:hi - first]
        return out


class EchoCanceller:
    """Microphone chunks in, cleaned chunks out; ``played`` is the sink's report of each block."""

    def __init__(self, config: AudioConfig, audible_output: bool,
                 load: Callable[[bool, int, bool], Processor] = load_processor):
        self.delay_s = config.echo_delay_ms / 1000
        self.noise_level = config.noise_suppression
        self.auto_gain = config.auto_gain
        library_error = None
        self._processor: Processor | None = None
        wanted = decide(config.echo_cancel, audible_output, None).state == "ready"
        self._new_processor = lambda: load(wanted, self.noise_level, self.auto_gain)
        if wanted or self.noise_level or self.auto_gain:
            try:
                self._processor = self._new_processor()
            except (ImportError, OSError, RuntimeError) as error:
                library_error = str(error) or type(error).__name__
        self._decision = decide(config.echo_cancel, audible_output, library_error)
        self.cancelling = self._decision.state == "ready" and self._processor is not None
        self.timeline = ReferenceTimeline()
        self._converters: dict[int, PcmConverter] = {}
        self._buffer = np.zeros(0, dtype=np.int16)
        self._samples_in = 0  # microphone samples taken so far (the capture's stream clock)
        self._samples_out = 0  # ... and handed on (the listener's stream clock)
        # (end of the frame in samples out, energy in, energy out) of the box's sounding frames
        self._frames: collections.deque[tuple[int, float, float]] = collections.deque(
            maxlen=FRAMES_KEPT)
        self._arrivals: collections.deque[float] = collections.deque(maxlen=ARRIVALS_KEPT)
        self.live = True
        self._echo_in = self._echo_out = 0.0  # energy while the reference sounds (this stretch)
        self._echo_s = 0.0
        self.last_erle_db: float | None = None
        self._mic_sounding: collections.deque[float] = collections.deque(maxlen=ECHO_FRAMES)
        self._mic_floor: collections.deque[float] = collections.deque(maxlen=FLOOR_FRAMES)
        self.echo_heard = True  # until the microphone shows otherwise
        self._silent_s = FLOOR_AFTER_S  # how long the box has been silent
        self.shift_s = 0.0  # the reference is heard this much after the sink's clock says
        self._near_history = np.zeros(0, dtype=np.int16)  # the microphone's last second, raw
        self._near_end_s = 0.0  # ... and the capture time its last sample ends at
        self._recent_sounding: collections.deque[bool] = collections.deque(
            maxlen=int(TRACK_WINDOW_S * 100))
        self._frames_to_track = TRACK_EVERY_FRAMES
        self._last_lag_s: float | None = None
        self._first_lag_s: float | None = None  # the delay AEC3 converged on
        # the shift each of the last players was measured at (PLAYERS_KEPT), and this player's
        self._player_shifts: collections.deque[float] = collections.deque(
            [0.0] * (PLAYERS_KEPT - 1), maxlen=PLAYERS_KEPT)
        self._measured_shift: float | None = None
        self.lead_s = 0.0  # the reference is handed to AEC3 this much ahead of the sink's clock
        self._recent_energy: collections.deque[tuple[float, float]] = collections.deque(
            maxlen=int(TRACK_WINDOW_S * 100))  # (in, out) of the last second's sounding frames
        self._near_tones, self._far_tones = ToneRemover(), ToneRemover()
        self.tone_frames = 0  # frames whose echo was the box's tones, taken out by frequency

    @property
    def wants_reference(self) -> bool:
        return self.cancelling

    @property
    def lag_s(self) -> float | None:
        """Where the box's sound is heard from its sink's clock, once measured (None before)."""
        return self._first_lag_s

    @property
    def status(self) -> EchoStatus:
        if self.cancelling and self.live:
            figure = f"; echo reduced by {self.last_erle_db:.0f} dB during the last reply" if (
                self.last_erle_db is not None) else ""
            if not self.echo_heard:
                figure = "; the microphone does not hear the box's sound: it passes unchanged"
            return EchoStatus("ready", f"WebRTC AEC3, device delay {self.delay_s * 1000:.0f} ms{figure}")
        if self.cancelling:
            return EchoStatus("off", "the microphone's audio is not live (read faster than real time): "
                                     "what plays cannot be aligned with it")
        return self._decision

    # -- the sink's side -------------------------------------------------------------------------

    def played(self, pcm: Pcm, start_s: float) -> None:
        """A block the sink plays, starting to sound at monotonic ``start_s`` (any rate)."""
        if not self.cancelling:
            return
        converter = self._converters.get(pcm.rate_hz)
        if converter is None:
            converter = self._converters[pcm.rate_hz] = PcmConverter(RATE_HZ)
        self.timeline.add(start_s + self.delay_s, converter.convert(pcm).samples())

    def player_started(self) -> None:
        """The sink started a new player (a command's process): the reference goes back to where
        most of the last players were heard (``PLAYERS_KEPT``), if the last one moved it."""
        if not self.cancelling:
            return
        if self._measured_shift is not None:
            self._player_shifts.append(self._measured_shift)
            self._measured_shift = None
        self._last_lag_s = None  # (the last player's)
        if self._first_lag_s is None:
            return
        usual_s = float(np.median(self._player_shifts))
        if abs(usual_s - self.shift_s) >= MOVE_S:
            _LOGGER.info("echo: a new player: the reference moves by %+.0f ms, to where the last "
                         "players were heard (%+.0f ms from the sink's clock)",
                         (usual_s - self.shift_s) * 1000, (self._first_lag_s + usual_s) * 1000)
            self._move_reference(usual_s)

    def stopped(self, at_s: float) -> None:
        """The sink cut its reply off at monotonic ``at_s``: what it had handed over for later
        never sounds (left on the timeline, it would make AEC3 suppress the person who spoke)."""
        if self.cancelling:
            self.timeline.cut(at_s + self.delay_s + PLAYED_OUT_S)

    # -- the microphone's side -------------------------------------------------------------------

    def process(self, pcm: Pcm, now_s: float) -> Pcm:
        """One chunk of 16 kHz microphone audio that arrived at monotonic ``now_s``, cleaned.

        Whole 10 ms frames are processed; a remainder waits for the next chunk (so the output of
        one call may be up to 10 ms shorter or longer than its input)."""
        if self._processor is None:
            return pcm
        self._samples_in += len(pcm.audio) // 2
        self._arrivals.append(now_s - self._samples_in / RATE_HZ)
        # Not live: the audio runs ahead of the wall clock, below where it arrived before (a
        # file read as fast as it goes). A read that came late (the loop stalled, the reads
        # then caught up) leaves it where it was: judged by the highest arrival, one stall kept
        # the canceller (and barge-in) off for the 4 s it stayed in the window.
        earlier = min(itertools.islice(self._arrivals, max(1, len(self._arrivals) // 2)))
        self.live = earlier - self._arrivals[-1] < NOT_LIVE_S
        samples = np.concatenate([self._buffer, pcm.samples()])
        if not self.live and not (self.noise_level or self.auto_gain):
            self._buffer = samples[:0]
            self._samples_out += len(samples)
            return Pcm(samples.tobytes(), RATE_HZ)  # nothing to align with: the audio as it came
        whole = len(samples) // FRAME * FRAME
        self._buffer = samples[whole:]
        if whole == 0:
            return Pcm(b"", RATE_HZ)
        self._samples_out += whole
        offset_s = min(self._arrivals)  # the least delayed arrival: capture time = stream time + this
        first_sample = self._samples_in - len(self._buffer) - whole
        out = np.empty(whole, dtype=np.int16)
        self._judge_echo()
        aligned = self.cancelling and self.live
        far_start_s = offset_s + first_sample / RATE_HZ - self.shift_s + self.lead_s
        tones = self._tones(far_start_s, whole) if aligned else ()
        self.tone_frames += whole // FRAME if tones else 0
        for i in range(0, whole, FRAME):
            near = samples[i:i + FRAME]
            far = self.timeline.span(far_start_s + i / RATE_HZ, FRAME) if aligned else None
            # The box's tones are taken out of both by their frequencies; AEC3 cancels what is
            # left (each note's strike), and never sees the tones themselves.
            cleaned = self._processor.process(
                self._near_tones.remove(near, tones),
                None if far is None else self._far_tones.remove(far, tones))
            out[i:i + FRAME] = cleaned if self.echo_heard else near
            self._count(near, cleaned, far, self._samples_out - whole + i + FRAME)
        if self.cancelling and self.live:
            keep = int(TRACK_WINDOW_S * RATE_HZ)
            self._near_history = np.concatenate([self._near_history, samples[:whole]])[-keep:]
            self._near_end_s = offset_s + (first_sample + whole) / RATE_HZ
            self._track_delay()
        return Pcm(out.tobytes(), RATE_HZ)

    def _tones(self, start_s: float, count: int) -> tuple[float, ...]:
        """The frequencies of what the box plays around these samples when it is tones (a ring, a
        chime: under ``TONES_FLATNESS``), from ``TONE_LOOKBACK_S`` before to ``TONE_AHEAD_S`` after."""
        lookback, ahead = int(TONE_LOOKBACK_S * RATE_HZ), int(TONE_AHEAD_S * RATE_HZ)
        far = self.timeline.span(start_s - lookback / RATE_HZ, lookback + count + ahead)
        if float(np.sqrt(np.mean(far.astype(np.float64) ** 2))) <= SOUNDING_LEVEL:
            return ()
        return tone_frequencies(far) if spectral_flatness(far) < TONES_FLATNESS else ()

    def _coping(self) -> bool:
        """Whether AEC3 reduces the echo by ``COPING_DB`` over the last second of the box's sound."""
        energy_in = sum(e for e, _ in self._recent_energy)
        energy_out = sum(e for _, e in self._recent_energy)
        return 10 * np.log10((energy_in + 1.0) / (energy_out + 1.0)) >= COPING_DB

    def _track_delay(self) -> None:
        """Every half second of the box's sound, measure where its echo is and move the
        reference there when two measures in a row agree (``echo_delay``)."""
        if self._frames_to_track > 0:
            return
        self._frames_to_track = TRACK_EVERY_FRAMES
        window = len(self._near_history)
        if (not self.echo_heard or window < TRACK_WINDOW_S * RATE_HZ
                or sum(self._recent_sounding) < TRACK_SOUNDING_SHARE * len(self._recent_sounding)):
            return
        start_s = self._near_end_s - window / RATE_HZ
        far = self.timeline.span(start_s - MAX_LAG_S,
                                 window + int(round((MAX_LAG_S - MIN_LAG_S) * RATE_HZ)))
        if spectral_flatness(far) < TONAL_FLATNESS:
            return  # a ring or a chime: its echo's delay is ambiguous (it peaks every period)
        found = estimate_delay(self._near_history, far, MIN_LAG_S)
        last = self._last_lag_s
        self._last_lag_s = found.lag_s if found.strength >= MIN_STRENGTH else None
        _LOGGER.debug("echo: heard %+.0f ms from the sink's clock (peak %.1f x typical)",
                      found.lag_s * 1000, found.strength)
        if self._last_lag_s is None or last is None or abs(found.lag_s - last) > AGREE_S:
            return
        lag_s = (found.lag_s + last) / 2
        self._measured_shift = 0.0 if self._first_lag_s is None else lag_s - self._first_lag_s
        if self._first_lag_s is None:
            self._first_lag_s = lag_s
            _LOGGER.info("echo: the box's sound is heard %+.0f ms from its sink's clock", lag_s * 1000)
            if lag_s < LEAD_BELOW_S:
                self.lead_s = REFERENCE_LEAD_S
                _LOGGER.info("echo: the reference goes to the canceller %.0f ms ahead of the sink's "
                             "clock (an echo as early as its reference is lost)", self.lead_s * 1000)
            return
        shift_s = lag_s - self._first_lag_s
        if abs(shift_s - self.shift_s) >= MOVE_S and not self._coping():
            _LOGGER.info("echo: the box's sound is heard %+.0f ms from its sink's clock now: the "
                         "reference moves by %+.0f ms", lag_s * 1000, (shift_s - self.shift_s) * 1000)
            self._move_reference(shift_s)

    def _move_reference(self, shift_s: float) -> None:
        self.shift_s = shift_s
        # AEC3 learnt the echo where it was: a fresh one finds it where it is within a second
        # (left to re-learn, it did not in 1 of 12 runs of a 300 ms move: 7-9 dB for good)
        self._processor = self._new_processor()

    def _judge_echo(self) -> None:
        """Whether the microphone hears the box: its level while the box sounds against the room's
        floor while it is silent (``echo_heard``; False: nothing to take out, and AEC3 would take
        the person's voice for an echo)."""
        if len(self._mic_sounding) < ECHO_FRAMES // 2:
            return
        floor = max(float(np.percentile(self._mic_floor, FLOOR_PERCENTILE)) if self._mic_floor
                    else 0.0, SILENT_MIC_LEVEL)
        self.echo_heard = float(np.percentile(self._mic_sounding, ECHO_PERCENTILE)) > (
            floor * ECHO_ABOVE_FLOOR)

    def taken_out_db(self, start_s: float, end_s: float) -> float | None:
        """How much the canceller took out of what it handed on from ``start_s`` to ``end_s``
        (seconds of its output: the listener's stream time), over the frames the box sounded
        in, in dB; None when it sounded in fewer than half of them (or was not cancelling).

        The box's own voice comes out 20-60 dB lower; a person speaking over it, a few dB (what
        is taken out is the echo under their voice)."""
        first, last = int(start_s * RATE_HZ), int(end_s * RATE_HZ)
        spans = [(e_in, e_out) for end, e_in, e_out in self._frames if first < end <= last + FRAME]
        if not spans or len(spans) < (last - first) / FRAME / 2:
            return None
        return 10 * float(np.log10((sum(e for e, _ in spans) + 1.0) / (sum(e for _, e in spans) + 1.0)))

    def _count(self, near: np.ndarray, cleaned: np.ndarray, far: np.ndarray | None,
               end: int) -> None:
        """Energy in and out while the reference sounds; one log line when a stretch of it ends."""
        sounding = far is not None and float(np.sqrt(np.mean(far.astype(np.float64) ** 2))) > SOUNDING_LEVEL
        energy_in = float(np.sum(near.astype(np.float64) ** 2))
        level = float(np.sqrt(energy_in / len(near)))
        self._silent_s = 0.0 if sounding else self._silent_s + FRAME / RATE_HZ
        self._recent_sounding.append(sounding)
        if sounding:
            energy_out = float(np.sum(cleaned.astype(np.float64) ** 2))
            self._frames_to_track -= 1
            self._mic_sounding.append(level)
            self._recent_energy.append((energy_in, energy_out))
            self._frames.append((end, energy_in, energy_out if self.echo_heard else energy_in))
            self._echo_in += energy_in
            self._echo_out += energy_out
            self._echo_s += FRAME / RATE_HZ
            return
        if self._silent_s >= FLOOR_AFTER_S:
            self._mic_floor.append(level)
        if self._echo_s == 0.0 or self._silent_s < QUIET_AFTER_S:
            return
        self.last_erle_db = 10 * np.log10((self._echo_in + 1.0) / (self._echo_out + 1.0))
        level_db = 10 * np.log10(self._echo_in / (self._echo_s * RATE_HZ) + 1.0) - 90.3
        _LOGGER.info("echo: %.1f s of the box's sound, mic %.0f dBFS, %s", self._echo_s, level_db,
                     f"reduced by {self.last_erle_db:.1f} dB" if self.echo_heard
                     else "not heard by the microphone: passed through")
        _LOGGER.debug("echo: mic reads arrive %.0f-%.0f ms after their capture clock",
                      (self._arrivals[-1] - min(self._arrivals)) * 1000,
                      (max(self._arrivals) - min(self._arrivals)) * 1000)
        self._echo_in = self._echo_out = self._echo_s = 0.0


__all__ = ["EchoCanceller", "EchoStatus", "ReferenceTimeline", "decide", "load_processor"]
