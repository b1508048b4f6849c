"""Where the question starts after a wake word heard inside the same utterance.

The wake word model fires once its score passes the cutoff, which can be before the phrase has
ended: over the box's own voice (the canceller's residual under it) okay_nabu fired in the
middle of "Na-bu", and the question cut there began with the end of it: Whisper heard "Pulls
at a timer", "Oils at a timer", "I'll turn on the kitchen lights". So the question starts after
the phrase's sound has ended: at the first pause (clearly quieter than the phrase) within
``MAX_TAIL_S`` of where the model fired. Said without a pause ("Okay Nabu turn on..."), it
starts just before where the model fired, as it always did.
"""

from __future__ import annotations

import numpy as np

from satellite.audio.pcm import Pcm

FIRED_MARGIN_S = 0.03  # without a pause: the model fires at the end of the chunk that completed it
MAX_TAIL_S = 0.4  # the phrase's end is looked for this far after the model fired
PHRASE_S = 1.2  # the phrase's loudness: its loudest 10 ms in this long before the model fired
PAUSE_BELOW_DB = 25.0  # a pause: this far under the phrase's loudest 10 ms ("bu" is 15-20 dB under "Na")
MIN_PAUSE_S = 0.06  # longer than a consonant's closure ("se-t a")
INTO_PAUSE_S = 0.1  # the cut is at most this far into the pause (its middle if shorter)
FRAME_S = 0.01


def question_start_s(pcm: Pcm, fired_s: float) -> float:
    """Seconds into ``pcm`` where the question starts, the wake word model having fired
    ``fired_s`` seconds into it."""
    fallback = max(0.0, fired_s - FIRED_MARGIN_S)
    frame = int(FRAME_S * pcm.rate_hz)
    samples = pcm.samples().astype(np.float64)
    fired = int(fired_s / FRAME_S)
    count = len(samples) // frame
    first = max(0, fired - int(PHRASE_S / FRAME_S))
    last = min(count, fired + int((MAX_TAIL_S + 2 * INTO_PAUSE_S) / FRAME_S))
    if fired <= first or fired >= count:
        return fallback
    frames = samples[first * frame:last * frame].reshape(-1, frame)
    level_db = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1.0)
    quiet = level_db < level_db[:fired - first].max() - PAUSE_BELOW_DB
    need = int(round(MIN_PAUSE_S / FRAME_S))
    for start in range(fired - first, min(len(quiet), fired - first + int(MAX_TAIL_S / FRAME_S))):
        if start + need <= len(quiet) and quiet[start:start + need].all():
            # the phrase has ended: the question starts after the pause; the cut is inside it,
            # past the phrase's last decaying sound (Whisper made "Blue" of 20 ms of it)
            pause = need
            while start + pause < len(quiet) and quiet[start + pause]:
                pause += 1
            return (first + start) * FRAME_S + min(INTO_PAUSE_S, pause * FRAME_S / 2)
    return fallback


__all__ = ["FIRED_MARGIN_S", "question_start_s"]
