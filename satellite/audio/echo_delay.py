"""Where the box's sound really is in the microphone: the echo's delay, found by correlation.

The sinks tell the echo canceller when each block starts to sound by their own clock: a player
command that starts late or falls behind on a loaded box, or a device's buffer, moves the real
sound by tens to hundreds of milliseconds, from one reply to the next. AEC3 finds a steady delay
by itself, but re-converges slowly after a jump (a whole reply at 6-13 dB instead of 30+:
docs/benchmarks.md). So the canceller measures the delay itself: over the last second of the
box's sound, the microphone is cross-correlated with the reference (GCC-PHAT: the phase only, so
the room's colouring and the voice's own rhythm do not smear the peak), and the reference is
moved by what was found, before AEC3 sees it. AEC3 then sees the same small delay every reply.

Pure: arrays in, a lag out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE_HZ = 16000


@dataclass(frozen=True)
class DelayEstimate:
    lag_s: float  # the echo comes this much later than the reference says (may be negative)
    strength: float  # the correlation peak over the median of the correlation: > ~6 is an echo


def estimate_delay(near: np.ndarray, far: np.ndarray, min_lag_s: float,
                   rate_hz: int = RATE_HZ) -> DelayEstimate:
    """How much later than the reference says the echo of ``far`` is heard in ``near``.

    ``near`` is the microphone over capture times [T, T + W); ``far`` the reference over
    [T - max_lag, T + W - min_lag), so it is longer than ``near`` by the range of lags searched,
    ``max_lag = min_lag_s + (len(far) - len(near)) / rate_hz``.
    """
    near = near.astype(np.float64)
    far = far.astype(np.float64)
    n = len(near) + len(far)
    size = 1 << (n - 1).bit_length()
    spectrum = np.fft.rfft(near, size) * np.conj(np.fft.rfft(far, size))
    spectrum /= np.abs(spectrum) + 1e-9
    correlation = np.fft.irfft(spectrum, size)
    # correlation[k] = sum_t near[t] * far[t - k] (k < 0 wraps to the end): far[t - k] sounded at
    # T - max_lag + t - k and is heard at T + t, a lag of max_lag + k, for k = -extra .. 0.
    extra = len(far) - len(near)
    lags = np.concatenate([correlation[size - extra:], correlation[:1]])  # k = -extra .. 0
    best = int(np.argmax(lags))
    max_lag_s = min_lag_s + extra / rate_hz
    lag_s = max_lag_s - (extra - best) / rate_hz
    typical = float(np.median(np.abs(lags))) + 1e-12
    return DelayEstimate(lag_s, float(lags[best]) / typical)


__all__ = ["DelayEstimate", "estimate_delay"]


def spectral_flatness(samples: np.ndarray) -> float:
    """Geometric over arithmetic mean of the power spectrum: ~0.01-0.06 for a second of speech,
    ~2e-5 for the timer's ring or a chime (a few pure tones). A tone's echo has no one delay to
    find (its correlation peaks again every period), so tones are not tracked."""
    x = samples.astype(np.float64)
    if len(x) == 0:
        return 0.0
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2 + 1e-3
    return float(np.exp(np.mean(np.log(power))) / np.mean(power))
