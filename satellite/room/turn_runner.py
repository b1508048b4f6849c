"""One turn at a time for the room: start, a one-deep queue, cancel, speculative STT, stop.

- A turn runs as one task. An utterance that ends while a turn runs waits for
  it, one deep: a newer one replaces it. A cancelled turn (barge-in) is fully
  finished before the next starts, so turns never overlap.
- Speculative STT: transcription of the utterance so far starts when silence
  begins; it becomes the turn's transcript if the utterance ends there, and is
  cancelled (freeing the engine as soon as its thread returns) if speech resumes.
- ``stop(grace_s)`` lets the current turn finish within the grace, then cancels it.
- The room's state machine hears when a turn begins and when the last one ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from satellite.audio.pcm import Pcm
from satellite.engines.stt import Transcript
from satellite.room.machine import RoomMachine
from satellite.room.segmenter import UtteranceEnded

_LOGGER = logging.getLogger(__name__)
CANCEL_WAIT_S = 3.0  # a cancelled turn unwinds (aborts playback) within this


@dataclass
class PendingTurn:
    utterance: UtteranceEnded
    last_voiced_wall: float  # wall clock of the utterance's last sound (``heard_end_s``)
    woken: bool  # addressed by the wake word or the follow-up window (not to be checked again)
    wake_s: float | None = None  # stream time the wake word model fired in this utterance
    ring_only: bool = False  # heard while a timer rings, without the wake word: only "stop" etc.
    question: Pcm | None = None  # the audio after the wake word, when it was heard inside


RunTurn = Callable[[PendingTurn, "asyncio.Task[Transcript] | None"], Coroutine[Any, Any, None]]


class TurnRunner:
    def __init__(self, run_turn: RunTurn, room: RoomMachine):
        self._run_turn = run_turn
        self.room = room
        self.current: asyncio.Task[None] | None = None
        self.pending: PendingTurn | None = None
        self._speculation: tuple[int, bool, asyncio.Task[Transcript]] | None = None
        self._deciding = 0  # utterances waiting for a decision (the wake word model)
        self.idle = asyncio.Event()
        self.idle.set()

    @property
    def running(self) -> bool:
        return self.current is not None and not self.current.done()

    # -- turns -----------------------------------------------------------------------------------

    def submit(self, pending: PendingTurn) -> None:
        """Start a turn now, or queue it (one deep) behind the running one."""
        if self.running:
            if self.pending is not None:
                _LOGGER.info("a newer utterance replaces the one waiting for the current turn")
            self.pending = pending
            return
        self._start(pending)

    def start_task(self, turn: Coroutine[Any, Any, None], name: str) -> bool:
        """Run ``turn`` (not made from an utterance: Home Assistant's pipeline after the wake word)
        as the current turn; False, and ``turn`` closed, if one is running already."""
        if self.running:
            turn.close()
            return False
        self.drop_speculation()
        self._begin(asyncio.get_running_loop().create_task(turn, name=name))
        return True

    def cancel_current(self) -> bool:
        """Stop the running turn (barge-in); the next one starts once it has finished."""
        turn = self.current
        if turn is None or turn.done() or turn.cancelling():
            return False
        turn.cancel()
        return True

    def _start(self, pending: PendingTurn) -> None:
        speculation = self.take_speculation(pending.utterance.utterance,
                                            pending.question is not None)
        _LOGGER.debug("turn started: utterance %d, %.2f-%.2f s%s", pending.utterance.utterance,
                      pending.utterance.start_s, pending.utterance.last_voiced_s,
                      " (speculative STT)" if speculation is not None else "")
        self._begin(asyncio.get_running_loop().create_task(self._run_turn(pending, speculation),
                                                           name="mic turn"))

    def _begin(self, task: asyncio.Task[None]) -> None:
        self.idle.clear()
        self.current = task
        task.add_done_callback(self._finished)
        self.room.turn_began()

    def _finished(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            _LOGGER.info("turn cancelled")
        elif task.exception() is not None:
            _LOGGER.error("turn failed", exc_info=task.exception())
        if task is not self.current:
            return
        self.current = None
        self.room.turn_ended()
        pending, self.pending = self.pending, None
        if pending is not None:
            self._start(pending)
        else:
            self._maybe_idle()

    # -- deciding (an utterance waits for the wake word model) ------------------------------------

    def decide_later(self, decision: Coroutine[Any, Any, None]) -> None:
        self._deciding += 1
        self.idle.clear()
        task = asyncio.get_running_loop().create_task(self._decide(decision), name="wake decision")
        task.add_done_callback(_log_failure)

    async def _decide(self, decision: Coroutine[Any, Any, None]) -> None:
        try:
            await decision
        finally:
            self._deciding -= 1
            self._maybe_idle()

    def _maybe_idle(self) -> None:
        if self.current is None and self.pending is None and not self._deciding:
            self.idle.set()

    async def wait_idle(self) -> None:
        """Until no turn runs, waits or is being decided (end of input, tests)."""
        while self.current is not None or self.pending is not None or self._deciding:
            await self.idle.wait()
            await asyncio.sleep(0)

    # -- speculative STT ---------------------------------------------------------------------------

    def speculate(self, utterance: int, task: asyncio.Task[Transcript], *,
                  cut_at_wake: bool = False) -> None:
        """``cut_at_wake``: it transcribes only the audio after the wake word."""
        self.drop_speculation()
        self._speculation = (utterance, cut_at_wake, task)

    def take_speculation(self, utterance: int, cut_at_wake: bool = False
                         ) -> asyncio.Task[Transcript] | None:
        """The speculative transcript of this utterance, if it transcribed the same audio."""
        if self._speculation is not None and self._speculation[:2] == (utterance, cut_at_wake):
            task = self._speculation[2]
            self._speculation = None
            return task
        self.drop_speculation()
        return None

    def speculating(self, task: asyncio.Task[Transcript]) -> bool:
        """``task`` is the speculation waiting for its utterance to end."""
        return self._speculation is not None and self._speculation[2] is task

    def drop_speculation(self) -> None:
        """Speech resumed (or the capture was gated): the speculative transcript is not wanted."""
        if self._speculation is not None:
            *_, task = self._speculation
            self._speculation = None
            task.cancel()
            task.add_done_callback(_log_failure)

    # -- shutdown ----------------------------------------------------------------------------------

    async def stop(self, grace_s: float) -> None:
        """Let the current turn finish within ``grace_s``, then cancel it; drop what waits."""
        self.pending = None
        self.drop_speculation()
        turn = self.current
        if turn is not None and not turn.done():
            done, _ = await asyncio.wait({turn}, timeout=grace_s)
            if not done:
                _LOGGER.info("current turn did not finish within %.1f s: aborting it", grace_s)
                turn.cancel()
                done, _ = await asyncio.wait({turn}, timeout=CANCEL_WAIT_S)
                if not done:
                    _LOGGER.warning("the turn did not stop within %.0f s of being cancelled",
                                    CANCEL_WAIT_S)


def _log_failure(task: asyncio.Task[object]) -> None:
    """Retrieve a background task's outcome so nothing is logged as lost."""
    if not task.cancelled() and task.exception() is not None:
        _LOGGER.debug("%s failed: %s", task.get_name(), task.exception())
