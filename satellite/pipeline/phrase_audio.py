"""Audio of the box's fixed answers, kept in memory: a sentence said before is played, not synthesized.

Fixed answers repeat: "Timer set for five minutes.", Home Assistant's "Turned on
the kitchen lights.", the refusal when no Home Assistant is connected. Piper's
first words take ~0.1–0.15 s on a 2-core box, a kept sentence starts at once.
The LLM's replies are not kept here (the response cache keeps whole replies).

Keyed by the voice's identity (model, speaker, scales: another voice never plays
this audio) and the sentence's text; beyond ``max_bytes`` of audio the least
recently said go first. Used on the event loop only.
"""

from __future__ import annotations

from collections import OrderedDict

from satellite.audio.pcm import Pcm


class PhraseAudio:
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self._kept: OrderedDict[tuple[str, str], Pcm] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def __contains__(self, key: tuple[str, str]) -> bool:
        """Whether (voice, text) is kept; not a hit."""
        return key in self._kept

    def get(self, voice: str, text: str) -> Pcm | None:
        pcm = self._kept.get((voice, text))
        if pcm is not None:
            self._kept.move_to_end((voice, text))
            self.hits += 1
        return pcm

    def put(self, voice: str, text: str, pcm: Pcm) -> None:
        if len(pcm.audio) > self.max_bytes or pcm.frames == 0:
            return
        old = self._kept.pop((voice, text), None)
        if old is not None:
            self.bytes -= len(old.audio)
        self._kept[(voice, text)] = pcm
        self.bytes += len(pcm.audio)
        while self.bytes > self.max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self.bytes -= len(dropped.audio)
