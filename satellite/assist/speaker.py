"""What Home Assistant's audio needs of the room's speaker: the one ``Playback`` of the room
(``room.playback``) satisfies it, so ``assist`` does not import the room upward."""

from __future__ import annotations

import asyncio
from typing import Protocol

from satellite.audio.pcm import Pcm
from satellite.audio.sinks import AudioSink


class RoomSpeaker(Protocol):
    rate_hz: int  # the rate audio is played at (HA's audio is converted to it)
    lock: asyncio.Lock  # held while a reply plays: one sound at a time in the room
    sink: AudioSink | None

    async def play(self, pcm: Pcm) -> None: ...

    async def end_reply(self) -> None: ...

    async def abort(self) -> None: ...

    def finished(self, now: float) -> None: ...


__all__ = ["RoomSpeaker"]
