"""The box's tones taken out of the microphone by their frequencies (numpy only)."""

from __future__ import annotations

import numpy as np

from satellite.audio import to_stt_format
from satellite.audio.tone_removal import ToneRemover, tone_frequencies
from satellite.audio.tones import BELL_PARTIALS
from satellite.timers.ring import _RING_NOTES, ring_pcm
from scripts.room import echo_of, room_impulse

RATE_HZ = 16000
FRAME = 160


def ring() -> np.ndarray:
    return to_stt_format(ring_pcm(22050)).samples()


def through(remover: ToneRemover, mic: np.ndarray, tones: tuple[float, ...]) -> np.ndarray:
    whole = len(mic) // FRAME * FRAME
    return np.concatenate([remover.remove(mic[i:i + FRAME], tones) for i in range(0, whole, FRAME)])


def energy_db(x: np.ndarray) -> float:
    return 10 * float(np.log10(np.sum(x.astype(np.float64) ** 2) + 1.0))


def test_the_rings_partials_are_found_in_what_it_plays() -> None:
    partials = sorted({note.freq_hz * p for note in _RING_NOTES for p, _ in BELL_PARTIALS})
    padded = np.concatenate([np.zeros(8000, dtype=np.int16), ring(), np.zeros(8000, dtype=np.int16)])
    found = tone_frequencies(padded)
    assert len(found) == len(partials)
    assert np.allclose(found, partials, atol=2.0), found


def test_silence_has_no_tones() -> None:
    assert tone_frequencies(np.zeros(8000, dtype=np.int16)) == ()


def test_a_rings_echo_is_taken_out_and_other_sound_passes() -> None:
    played = np.concatenate([np.zeros(4000), ring().astype(np.float64), np.zeros(4000)])
    echo = echo_of(played, room_impulse(RATE_HZ, delay_ms=40, gain_db=-6, tail_ms=150))
    mic = np.round(echo).astype(np.int16)
    tones = tone_frequencies(played.astype(np.int16))
    assert energy_db(mic) - energy_db(through(ToneRemover(), mic, tones)) > 15.0

    noise = np.round(np.random.default_rng(0).standard_normal(16000) * 3000).astype(np.int16)
    assert energy_db(noise) - energy_db(through(ToneRemover(), noise, tones)) < 1.5


def test_without_tones_a_frame_passes_as_it_came() -> None:
    frame = np.arange(FRAME, dtype=np.int16)
    assert np.array_equal(ToneRemover().remove(frame, ()), frame)
