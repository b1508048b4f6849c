"""Where utterances start and end in a stream of VAD-labelled frames (sans-IO).

``VadSegmenter`` is fed fixed-size frames with the VAD's decision for each and
returns events. Time is the stream's own, counted in frames, so the core needs
no clock and tests drive it with plain data:

- ``SpeechStarted`` at the first voiced frame (the pre-roll before it is kept so
  the first syllable is not cut);
- ``SilenceBegan`` once ``speculate_ms`` of silence follow enough speech: the
  audio so far, which is exactly what ``UtteranceEnded`` will carry if speech
  does not resume, so a caller can start STT early and keep its result;
- with ``sound_gap_ms``, ``SilenceBegan`` comes sooner: after that much quiet
  (below twice the room's noise, from the pre-roll) following loud speech, while the VAD still
  calls the frames voiced. WebRTC's VAD lets go ~0.1 s after the voice stops
  (0.13 s p50 to the first silent 30 ms frame on the bench and dev clips); 70 ms
  of quiet is ~60 ms sooner, and as rarely fooled by a pause inside speech as a
  10 ms VAD frame (8 vs 6 in 60 clips);
- ``SpeechResumed`` when speech comes back after a ``SilenceBegan`` (discard the
  speculative work): a loud block after a quiet-gap ``SilenceBegan``, or the VAD
  still calling it speech ``SOFT_SPEECH_MS`` later (a soft voice goes on), or a
  voiced frame after a VAD ``SilenceBegan``. Quiet gaps are only trusted in a
  quiet room (``QUIET_ROOM``): with a TV or the reply's own echo in the pre-roll,
  a soft last word could pass for quiet, and the VAD alone decides;
- ``UtteranceEnded`` after ``hangover_ms`` of silence (or at the maximum length,
  or at the end of input) with its audio and the end-of-speech delay: the time
  from the end of the last voiced frame to the decision;
- ``SpeechDiscarded`` when the burst had less than ``min_speech_ms`` of voiced
  frames (a cough, a click, a door).

Adaptive endpointing is the caller's judgement, applied here: ``end_now`` ends
the utterance in its silence before the hangover (what was said is complete),
``hold(ms)`` lengthens this utterance's hangover (it trails off: "and…").
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

from satellite.audio.pcm import STT_RATE_HZ, Pcm


@dataclass(frozen=True)
class SpeechStarted:
    utterance: int
    start_s: float  # first voiced frame, stream time


@dataclass(frozen=True)
class SilenceBegan:
    utterance: int
    pcm: Pcm
    last_voiced_s: float  # end of the last voiced frame
    audio_start_s: float = 0.0  # where ``pcm`` starts (pre-roll included)
    start_s: float = 0.0  # the first voiced frame


@dataclass(frozen=True)
class SpeechResumed:
    utterance: int
    at_s: float


@dataclass(frozen=True)
class UtteranceEnded:
    utterance: int
    pcm: Pcm  # pre-roll + speech + a short silent tail
    audio_start_s: float  # where ``pcm`` starts (pre-roll included)
    start_s: float  # first voiced frame
    last_voiced_s: float  # end of the last voiced frame
    decided_s: float  # end of the frame that ended it
    voiced_ms: float
    reason: str  # silence | complete (adaptive endpointing) | max_length | end_of_input
    sound_end_s: float = -1.0  # the last sound above the room's noise; see below

    @property
    def heard_end_s(self) -> float:
        """Where the person stopped making sound. The VAD keeps calling frames voiced for
        ~0.1 s after that (WebRTC's own hangover), so latency is measured from here."""
        return self.sound_end_s if self.sound_end_s >= 0.0 else self.last_voiced_s

    @property
    def end_of_speech_ms(self) -> float:
        """The VAD's wait: from the end of the last voiced frame to the decision."""
        return (self.decided_s - self.last_voiced_s) * 1000.0


@dataclass(frozen=True)
class SpeechDiscarded:
    utterance: int
    start_s: float
    voiced_ms: float
    reason: str = "too_short"


SOUND_FLOOR = 300  # -41 dBFS: quieter than this is not the person's voice
SOFT_SPEECH_MS = 90  # voiced this long after a quiet gap began: the person goes on, softly
QUIET_ROOM = 2 * SOUND_FLOOR  # quiet gaps are trusted only below this threshold (no TV, no echo)
SOUND_SEARCH_S = 0.5  # how far before the VAD's last voiced frame the sound's end is looked for

SegmentEvent = SpeechStarted | SilenceBegan | SpeechResumed | UtteranceEnded | SpeechDiscarded


class VadSegmenter:
    def __init__(self, frame_samples: int, *, preroll_ms: int = 300, hangover_ms: int = 300,
                 min_speech_ms: int = 250, max_utterance_s: float = 15.0,
                 speculate_ms: int | None = None, sound_gap_ms: int = 0,
                 rate_hz: int = STT_RATE_HZ):
        self.frame_samples = frame_samples
        self.rate_hz = rate_hz
        self.frame_s = frame_samples / rate_hz
        self._block = rate_hz // 100  # 10 ms: the loudness grain
        self.configure(preroll_ms=preroll_ms, hangover_ms=hangover_ms,
                       min_speech_ms=min_speech_ms, max_utterance_s=max_utterance_s,
                       speculate_ms=speculate_ms, sound_gap_ms=sound_gap_ms)
        self._index = 0  # frames seen
        self._last_voiced_index = -1  # the last frame the VAD called voiced, in or out of speech
        self._utterance = 0
        self._preroll: collections.deque[bytes] = collections.deque(maxlen=self._preroll_frames)
        self._frames: list[bytes] = []
        self._in_speech = False
        self._reset_speech()

    def configure(self, *, preroll_ms: int, hangover_ms: int, min_speech_ms: int,
                  max_utterance_s: float, speculate_ms: int | None = None,
                  sound_gap_ms: int = 0) -> None:
        """Set the thresholds (also at run time: they apply from the next frame)."""
        ms = self.frame_s * 1000.0
        self._preroll_frames = max(0, round(preroll_ms / ms))
        self._hangover_frames = max(1, round(hangover_ms / ms))
        self._min_voiced_frames = max(1, round(min_speech_ms / ms))
        self._max_frames = max(1, round(max_utterance_s / self.frame_s))
        if speculate_ms is None:
            speculate_ms = min(120, hangover_ms // 2)
        self._speculate_frames = min(self._hangover_frames, max(1, round(speculate_ms / ms)))
        self._gap_blocks = max(0, round(sound_gap_ms / 10))  # 0: the VAD alone
        self._soft_frames = max(1, round(SOFT_SPEECH_MS / ms))
        if hasattr(self, "_preroll") and self._preroll.maxlen != self._preroll_frames:
            self._preroll = collections.deque(self._preroll, maxlen=self._preroll_frames)

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def voiced_ms(self) -> float:
        """Voiced time in the utterance in progress (0 outside speech)."""
        return self._voiced * self.frame_s * 1000.0 if self._in_speech else 0.0

    @property
    def stream_s(self) -> float:
        """Stream time at the end of the last frame fed."""
        return self._index * self.frame_s

    @property
    def last_voiced_end_s(self) -> float:
        """Stream time at the end of the last frame the VAD called voiced (0 before any)."""
        return (self._last_voiced_index + 1) * self.frame_s

    def _reset_speech(self) -> None:
        self._in_speech = False
        self._frames = []
        self._voiced = 0
        self._silence_run = 0
        self._last_voiced_len = 0
        self._start_index = 0
        self._audio_start_index = 0
        self._speculated = False
        self._cut_len = 0  # frames in the speculated audio (what UtteranceEnded carries)
        self._gap_speculated = False  # the speculation came from a quiet gap, not the VAD
        self._gap_voiced = 0  # VAD-voiced frames since that quiet gap began
        self._gaps_off = False  # a soft voice went on past a gap: the VAD alone, this utterance
        self._threshold = SOUND_FLOOR  # loud = above the room's noise (set at speech start)
        self._loud_seen = False
        self._quiet_blocks = 0  # 10 ms blocks of quiet since the last loud one
        self._hangover_override: int | None = None  # this utterance's own hangover, in frames
        self._hold_reason = "silence"  # what its end is called once that hangover has passed

    def feed(self, frame: bytes, voiced: bool) -> list[SegmentEvent]:
        """One frame of ``frame_samples`` samples and whether the VAD heard speech in it."""
        index = self._index
        self._index += 1
        if voiced:
            self._last_voiced_index = index
        if not self._in_speech:
            if not voiced:
                if self._preroll_frames:
                    self._preroll.append(frame)
                return []
            self._utterance += 1
            self._in_speech = True
            self._frames = [*self._preroll, frame]
            self._audio_start_index = index - len(self._preroll)
            self._start_index = index
            self._preroll.clear()
            self._voiced = 1
            self._last_voiced_len = len(self._frames)
            if self._gap_blocks:
                self._threshold = self._room_threshold(self._frames[:-1])
                self._gaps_off = self._threshold > QUIET_ROOM  # a loud room: the VAD alone
                self._hear(frame)
            return [SpeechStarted(self._utterance, index * self.frame_s)]

        events: list[SegmentEvent] = []
        self._frames.append(frame)
        loud = self._hear(frame) if self._gap_blocks else False
        if self._gap_speculated:
            self._gap_voiced += voiced
            if loud or self._gap_voiced >= self._soft_frames:  # speech goes on
                self._gaps_off = self._gaps_off or not loud
                events.append(self._resumed(index))
                # Loud after the quiet gap: speech the VAD has not called yet. It ends the
                # silence here, or a held pause longer than the hangover would end at this frame.
                voiced = voiced or loud
        if voiced:
            if self._speculated and not self._gap_speculated:
                events.append(self._resumed(index))
            self._voiced += 1
            self._silence_run = 0
            self._last_voiced_len = len(self._frames)
        else:
            self._silence_run += 1
        if not self._speculated and self._voiced >= self._min_voiced_frames:
            if not voiced and self._silence_run >= self._speculate_frames:
                self._cut_len = self._last_voiced_len + self._speculate_frames
                events.append(self._silence_began(self._last_voiced_s()))
            elif (self._gap_blocks and not self._gaps_off and self._loud_seen
                  and self._quiet_blocks >= self._gap_blocks):
                self._cut_len = len(self._frames)
                self._gap_speculated, self._gap_voiced = True, 0
                events.append(self._silence_began(self._sound_gap_start_s()))
        if not voiced:
            hangover = self._hangover_override or self._hangover_frames
            if self._silence_run >= hangover:
                events.append(self._finish(self._hold_reason))  # "silence", or what a hold said
                return events
        if len(self._frames) >= self._max_frames:
            events.append(self._finish("max_length"))
        return events

    def flush(self) -> list[SegmentEvent]:
        """End of input: the utterance in progress ends here."""
        if not self._in_speech:
            return []
        return [self._finish("end_of_input")]

    @property
    def utterance(self) -> int:
        """The number of the utterance in progress (or the last one)."""
        return self._utterance

    @property
    def speculating(self) -> bool:
        """The utterance in progress has had its ``SilenceBegan`` and speech has not resumed."""
        return self._in_speech and self._speculated

    @property
    def silence_ms(self) -> float:
        """Silence since the last voiced frame of the utterance in progress (0: voiced now)."""
        return self._silence_run * self.frame_s * 1000.0 if self._in_speech else 0.0

    def end_now(self, reason: str) -> SegmentEvent | None:
        """End the utterance in progress here, if it is in its silence after enough speech."""
        if not self._in_speech or self._silence_run < self._speculate_frames:
            return None
        return self._finish(reason)

    def hold(self, hangover_ms: float, reason: str = "silence") -> None:
        """This utterance ends after ``hangover_ms`` of silence instead of the configured hangover
        (at least one frame more than the silence so far), and its end is called ``reason``."""
        if self._in_speech:
            frames = max(self._silence_run + 1, round(hangover_ms / (self.frame_s * 1000.0)))
            self._hangover_override = frames
            self._hold_reason = reason

    def reset(self) -> None:
        """Forget the utterance in progress and the pre-roll (capture was gated)."""
        self._preroll.clear()
        self._reset_speech()

    def skip(self, frames: int = 1) -> None:
        """Frames that went by unheard (capture gated): stream time moves on, nothing is kept."""
        self.reset()
        self._index += frames

    def _last_voiced_s(self) -> float:
        return (self._audio_start_index + self._last_voiced_len) * self.frame_s

    def _silence_began(self, last_sound_s: float) -> SilenceBegan:
        self._speculated = True
        return SilenceBegan(self._utterance, self._utterance_pcm(), last_sound_s,
                            self._audio_start_index * self.frame_s, self._start_index * self.frame_s)

    def _resumed(self, index: int) -> SpeechResumed:
        self._speculated = self._gap_speculated = False
        self._hangover_override = None  # judged again at the next silence
        self._hold_reason = "silence"
        return SpeechResumed(self._utterance, index * self.frame_s)

    def _room_threshold(self, preroll: list[bytes]) -> int:
        """Loud = above twice the room's noise: the pre-roll's quieter 10 ms blocks (its 25th
        percentile). Not its loudest: the VAD often calls speech a frame or more after the
        voice began, and the pre-roll then holds the first syllable (a threshold from that cut
        the sound's end ~80 ms early)."""
        peaks = self._block_peaks(b"".join(preroll))
        if not len(peaks):
            return SOUND_FLOOR
        return max(SOUND_FLOOR, 2 * int(np.percentile(peaks, 25)))

    def _block_peaks(self, audio: bytes) -> np.ndarray:
        """The peak of each whole 10 ms block of ``audio`` (a partial last block is left out)."""
        samples = np.abs(np.frombuffer(audio, dtype="<i2").astype(np.int32))
        return samples[:len(samples) - len(samples) % self._block].reshape(-1, self._block).max(
            axis=1, initial=0)

    def _hear(self, frame: bytes) -> bool:
        """Follow the frame's loudness in 10 ms blocks; True if a block was loud."""
        peaks = self._block_peaks(frame)
        loud = np.nonzero(peaks > self._threshold)[0]
        if not len(loud):
            self._quiet_blocks += len(peaks)
            return False
        self._loud_seen = True
        self._quiet_blocks = len(peaks) - 1 - int(loud[-1])
        return True

    def _sound_gap_start_s(self) -> float:
        samples = (self._audio_start_index + len(self._frames)) * self.frame_samples
        return (samples - self._quiet_blocks * self._block) / self.rate_hz

    def _utterance_pcm(self) -> Pcm:
        """Pre-roll + speech + the quiet tail that ``SilenceBegan`` saw (or would have seen)."""
        end = self._cut_len if self._speculated else self._last_voiced_len + self._speculate_frames
        return Pcm(b"".join(self._frames[:min(len(self._frames), end)]), self.rate_hz)

    def _sound_end_s(self) -> float:
        """End of the last 10 ms whose peak is above the room's noise (``_room_threshold``, at
        least ``SOUND_FLOOR``), from ``SOUND_SEARCH_S`` before the VAD's last voiced frame to
        the decision: the VAD keeps faint fricatives ("lights") out of speech on one side and
        calls ~0.1 s after the voice speech on the other."""
        threshold = self._room_threshold(self._frames[:self._start_index - self._audio_start_index])
        first = max(0, self._last_voiced_len * self.frame_samples - int(SOUND_SEARCH_S * self.rate_hz))
        first -= first % self._block
        loud = np.nonzero(self._block_peaks(b"".join(self._frames)[2 * first:]) > threshold)[0]
        if not len(loud):
            return self._last_voiced_s()
        return (self._audio_start_index * self.frame_samples + first
                + (int(loud[-1]) + 1) * self._block) / self.rate_hz

    def _finish(self, reason: str) -> SegmentEvent:
        voiced_ms = self._voiced * self.frame_s * 1000.0
        event: SegmentEvent
        if self._voiced < self._min_voiced_frames:
            event = SpeechDiscarded(self._utterance, self._start_index * self.frame_s, voiced_ms)
        else:
            event = UtteranceEnded(
                utterance=self._utterance, pcm=self._utterance_pcm(),
                audio_start_s=self._audio_start_index * self.frame_s,
                start_s=self._start_index * self.frame_s, last_voiced_s=self._last_voiced_s(),
                decided_s=self._index * self.frame_s, voiced_ms=voiced_ms, reason=reason,
                sound_end_s=self._sound_end_s())
        tail = self._frames[self._last_voiced_len:]
        self._reset_speech()
        for frame in tail[-self._preroll_frames:] if self._preroll_frames else []:
            self._preroll.append(frame)
        return event


__all__ = ["SegmentEvent", "SilenceBegan", "SpeechDiscarded", "SpeechResumed", "SpeechStarted",
           "UtteranceEnded", "VadSegmenter"]
