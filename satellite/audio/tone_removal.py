"""The box's own tones (the timer's ring, a chime) taken out of the microphone by their frequencies.

AEC3 copes badly with a few pure tones: over the room simulator it reduced one ring by 48 dB and
the next by 4-15, and where a person spoke over a ring its suppressor ate the words (offline, 8
stop words said over rings: 4 heard through AEC3, 8 with the tones taken out instead). A tone's
echo holds the tone's own frequencies whatever the room does to it, and the box knows them from
what it plays: each 10 ms frame, the microphone's last ``WINDOW`` samples are fitted by least
squares with a sine and a cosine at each frequency, each also ramped (so a struck note's decay
fits), and the fit is taken out of the frame. That is a set of narrow notches that follow the
tones' loudness: the ring's echo reduced by ~21 dB on every ring, and speech between the notches
passes. The echo canceller does the same to its reference and lets AEC3 cancel what is left
(each note's strike): 46-48 dB on every ring, at room delays of 0 to 250 ms.
"""

from __future__ import annotations

import functools

import numpy as np

RATE_HZ = 16000
WINDOW = 320  # samples fitted each frame: longer is a narrower notch that follows the decay worse
MAX_TONES = 8
PEAK_BELOW_DB = 40.0  # peaks this far under the loudest are left in (a bell's faint partials)
LOWEST_HZ = 100.0
APART_HZ = 50.0  # a peak this close to a louder one is its skirt (a note's decay, the window's)


def tone_frequencies(reference: np.ndarray, rate_hz: int = RATE_HZ) -> tuple[float, ...]:
    """The loudest spectral peaks of a tonal ``reference`` (up to ``MAX_TONES``, in Hz, sorted),
    each placed between FFT bins by a parabola through the log power around it."""
    x = reference.astype(np.float64)
    if len(x) < 3 or not np.any(x):
        return ()
    size = 1 << (len(x) - 1).bit_length()
    power = np.log(np.abs(np.fft.rfft(x * np.blackman(len(x)), size)) ** 2 + 1e-9)
    inner = power[1:-1]
    peaks = np.nonzero((inner > power[:-2]) & (inner >= power[2:]))[0] + 1
    peaks = peaks[(power[peaks] >= power.max() - PEAK_BELOW_DB / 10 * np.log(10))
                  & (peaks * rate_hz / size >= LOWEST_HZ)]
    found: list[float] = []
    for k in peaks[np.argsort(power[peaks])[::-1]]:
        a, b, c = power[k - 1], power[k], power[k + 1]
        offset = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c else 0.0
        hz = round(float((k + offset) * rate_hz / size), 1)
        if all(abs(hz - other) >= APART_HZ for other in found):
            found.append(hz)
        if len(found) == MAX_TONES:
            break
    return tuple(sorted(found))


@functools.lru_cache(maxsize=16)
def _fit(frequencies: tuple[float, ...], window: int, rate_hz: int) -> tuple[np.ndarray, np.ndarray]:
    """The basis (window × 4 per tone) and its pseudo-inverse."""
    t = np.arange(window) / rate_hz
    ramp = np.linspace(-0.5, 0.5, window)
    columns = [shape * wave(2 * np.pi * f * t) for f in frequencies
               for wave in (np.cos, np.sin) for shape in (np.ones(window), ramp)]
    basis = np.stack(columns, axis=1)
    return basis, np.linalg.pinv(basis)


class ToneRemover:
    """Microphone frames in; the same frames without the given tones out (or as they came)."""

    def __init__(self, window: int = WINDOW, rate_hz: int = RATE_HZ):
        self.window = window
        self.rate_hz = rate_hz
        self._history = np.zeros(window, dtype=np.float64)  # the microphone's last samples, raw

    def remove(self, frame: np.ndarray, frequencies: tuple[float, ...]) -> np.ndarray:
        """``frame`` (int16) without ``frequencies``; with none, ``frame`` itself. Every frame
        should pass through here, so the window behind the first tonal frame is the real one."""
        self._history = np.concatenate([self._history, frame.astype(np.float64)])[-self.window:]
        if not frequencies:
            return frame
        basis, inverse = _fit(frequencies, self.window, self.rate_hz)
        fitted = basis[-len(frame):] @ (inverse @ self._history)
        return np.clip(np.round(frame - fitted), -32768, 32767).astype(np.int16)


__all__ = ["ToneRemover", "tone_frequencies"]
