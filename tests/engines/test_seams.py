"""A reply spoken in pieces sounds like one sentence (#18, part 7): with the real default Piper voice,
the silence at a seam between two pieces is no longer than the voice's own pauses in the whole
sentence, plus a tolerance, and a piece keeps no more silence at its edges than the engine means to."""

from __future__ import annotations

import numpy as np
import pytest

from satellite.audio.silence import speech_bounds, trim_silence
from satellite.engines.tts import EDGE_MS, GOES_ON, PAUSE_AFTER_MS, PiperTts
from satellite.pipeline.speech_chunks import speech_chunks, streamed_lead

FRAME_MS = 5
TOLERANCE_MS = 60  # Piper's own pause between two words of a whole sentence varies by 0-70 ms


def _audio(tts: PiperTts, text: str) -> np.ndarray:
    return np.concatenate([p.samples() for p in tts.synthesize(text)])


def _silent_run_ms(audio: np.ndarray, rate_hz: int, at: int) -> int:
    """Frames 40 dB under the loudest frame, in the run that touches sample ``at``, in ms."""
    frame = rate_hz * FRAME_MS // 1000
    frames = audio[:len(audio) // frame * frame].astype(np.float64).reshape(-1, frame)
    power = (frames ** 2).mean(axis=1)
    silent = power < power.max() * 1e-4
    i = min(at // frame, len(silent) - 1)
    if not silent[i] and i > 0 and silent[i - 1]:
        i -= 1
    if not silent[i]:
        return 0
    a = b = i
    while a > 0 and silent[a - 1]:
        a -= 1
    while b + 1 < len(silent) and silent[b + 1]:
        b += 1
    return (b - a + 1) * FRAME_MS


def _longest_inner_pause_ms(audio: np.ndarray, rate_hz: int) -> int:
    start, end = speech_bounds(audio, rate_hz, floor_db=-40.0) or (0, len(audio))
    frame = rate_hz * FRAME_MS // 1000
    return max((_silent_run_ms(audio, rate_hz, at) for at in range(start + frame, end - frame, frame)),
               default=0)


@pytest.fixture(scope="module")
def tts(engines) -> PiperTts:  # type: ignore[no-untyped-def]
    voice = engines.tts
    if not isinstance(voice, PiperTts):
        pytest.skip("the local Piper voice is not the configured one")
    return voice


@pytest.mark.parametrize("sentence", [
    "The capital of France is Paris.",
    "Whales are mammals, not fish, and they breathe air.",
    "Mount Everest is the highest mountain on Earth.",
])
def test_a_reply_in_pieces_pauses_no_longer_than_the_whole_sentence(tts: PiperTts, sentence: str) -> None:
    lead = streamed_lead(sentence, 2)
    assert lead is not None and lead.endswith((GOES_ON, ","))
    pieces = [lead, *speech_chunks(sentence[len(lead.rstrip(GOES_ON)):].strip(), max_words=4)]
    rate = tts.voice.sample_rate_hz
    parts = [_audio(tts, piece) for piece in pieces]
    joined = np.concatenate(parts)
    whole = _audio(tts, sentence)
    longest_whole = _longest_inner_pause_ms(whole, rate)
    at = 0
    for part in parts[:-1]:
        at += len(part)
        assert _silent_run_ms(joined, rate, at) <= longest_whole + TOLERANCE_MS, pieces


def test_a_cut_between_two_words_leaves_no_pause_of_its_own(tts: PiperTts) -> None:
    rate = tts.voice.sample_rate_hz
    joined = np.concatenate([_audio(tts, f"The capital{GOES_ON}"), _audio(tts, "of France is Paris.")])
    seam = len(_audio(tts, f"The capital{GOES_ON}"))
    assert _silent_run_ms(joined, rate, seam) <= 100  # Piper's edges as they come made ~200 ms


@pytest.mark.parametrize(("text", "after_ms"), [
    (f"The capital{GOES_ON}", PAUSE_AFTER_MS["word"]),
    ("Whales are mammals,", PAUSE_AFTER_MS["clause"]),
    ("The timer will ring in ten minutes.", PAUSE_AFTER_MS["sentence"]),
])
def test_a_piece_keeps_only_the_silence_meant_at_its_edges(tts: PiperTts, text: str, after_ms: float) -> None:
    rate = tts.voice.sample_rate_hz
    audio = _audio(tts, text)
    start, end = speech_bounds(audio, rate) or (0, 0)
    frame = rate * FRAME_MS // 1000
    assert start <= EDGE_MS * rate / 1000 + frame
    assert abs((len(audio) - end) - after_ms * rate / 1000) <= frame


def test_trimming_keeps_the_sound_and_pads_a_pause_the_voice_left_short() -> None:
    rate = 1000
    sound = np.concatenate([np.zeros(100), np.full(50, 8000.0), np.zeros(20)]).astype(np.int16)
    trimmed = trim_silence(sound, rate, keep_start_ms=10, keep_end_ms=40)
    assert len(trimmed) == 10 + 50 + 40 and int(np.abs(trimmed).sum()) == 50 * 8000
    assert trim_silence(np.zeros(300, dtype=np.int16), rate, keep_start_ms=0, keep_end_ms=0).size == 300
    assert len(trim_silence(sound, rate, keep_start_ms=None, keep_end_ms=None)) == len(sound)
