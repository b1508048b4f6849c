"""The room's side of the Assist satellite role: which questions Home Assistant's pipeline answers.

- ``satellite`` mode, Home Assistant running the satellite: the wake word starts
  a run at once and the microphone streams to HA (from just after the wake word,
  out of a short backlog) until HA's VAD says the question is over.
- ``hybrid`` mode (and ``satellite`` when the wake word was not the start: the
  follow-up window): the box records and transcribes the question as usual;
  home commands (``TurnService.is_home_command``) go to HA's pipeline as the
  recorded audio, everything else is answered on the box.
- HA not running the satellite (not connected, muted): the box answers itself
  (``satellite_assist_fallbacks`` counts it in satellite mode); a home command
  then goes through the conversation API when ``homeassistant.url`` is set, or
  the box says truthfully that it cannot.

Every wait is bounded: the stream by ``assist_satellite.max_stream_s``, the start
of HA's answer by ``answer_timeout_s``; an unanswered question gets a short
spoken "Home Assistant isn't answering right now."
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable

from satellite.assist.link import LinkDownError, SatelliteLink
from satellite.assist.player import AnswerPlayer
from satellite.assist.run import RemoteRun, RunOutcome
from satellite.audio.pcm import Pcm
from satellite.config.schema import Config
from satellite.pipeline.service import TurnService
from satellite.pipeline.turn import TurnRequest, TurnResult, TurnTimings
from satellite.room.playback import Playback

_LOGGER = logging.getLogger(__name__)
HA_SILENT = "Home Assistant isn't answering right now."
HA_FAILED = "Home Assistant couldn't answer that."
PHRASES = (HA_SILENT, HA_FAILED)
# microphone audio kept to send what followed the wake word before the run began (a wake word
# Whisper checked is decided up to wake_check.CHECK_TIMEOUT_S after it was said)
BACKLOG_S = 6.0
CHUNK_S = 0.1  # a recorded question is sent in pieces the size a microphone sends
TRAILING_SILENCE_S = 0.8  # after a recorded question, so HA's VAD hears its end too
SOURCE = "ha_pipeline"


class AssistTurns:
    def __init__(self, config: Config, link: SatelliteLink, player: AnswerPlayer, turns: TurnService,
                 playback: Playback, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.link = link
        self.player = player
        self.turns = turns
        self.playback = playback
        self.clock = clock
        self._backlog: collections.deque[tuple[float, Pcm]] = collections.deque()

    @property
    def mode(self) -> str:
        return self.config.assist_satellite.mode

    async def prepare(self) -> None:
        """Render what the box says when HA fails it, while the engines are idle."""
        if self.playback.sink is not None:
            self.playback.phrases.update(await self.turns.prerender(PHRASES))

    # -- the microphone ---------------------------------------------------------------------------

    def hear(self, pcm: Pcm, end_s: float) -> None:
        """Every chunk from the microphone (``end_s``: stream time at its end)."""
        self._backlog.append((end_s, pcm))
        while self._backlog and self._backlog[0][0] < end_s - BACKLOG_S:
            self._backlog.popleft()
        run = self.link.run
        if run is not None and run.live and run.streaming:
            self.link.send_audio(run, pcm)

    def microphone_off(self) -> None:
        """The privacy mute: a question streaming to Home Assistant ends here, and what the
        backlog held is forgotten."""
        run = self.link.run
        if run is not None and run.streaming:
            self.link.end_audio(run)
        self._backlog.clear()

    @property
    def busy(self) -> bool:
        """A run is under way: the room neither starts its own turns nor hears its wake word."""
        run = self.link.run
        return run is not None and run.outcome is None

    # -- decisions ----------------------------------------------------------------------------------

    def streams_after_wake_word(self) -> bool:
        return self.mode == "satellite" and self.link.ready

    async def routes_to_home_assistant(self, text: str) -> bool:
        if self.mode == "local":
            return False
        if not self.link.ready:
            if self.mode == "satellite":
                self.turns.state.metrics.assist_fallbacks.inc()
                _LOGGER.info("Home Assistant is not running the satellite (%s): answering on the box",
                             "muted" if self.link.muted else "not connected")
            return False
        return self.mode == "satellite" or await self.turns.is_home_command(text)

    # -- asking Home Assistant ----------------------------------------------------------------------

    async def ask_live(self, wake_s: float, wake_word: str | None) -> None:
        """After the wake word (at stream time ``wake_s``): stream the question as it is spoken."""
        try:
            run = self.link.begin_run(live=True, wake_word=wake_word)
        except LinkDownError:
            await self._say(HA_SILENT)
            return
        for end_s, pcm in list(self._backlog):
            if end_s > wake_s:
                self.link.send_audio(run, pcm)
        _LOGGER.info("assist satellite: streaming the question to Home Assistant")
        await self._conclude(run, None)
        while (self.config.assist_satellite.restart_on_end and run.outcome is RunOutcome.ANSWERED
               and self.link.ready):
            run = self.link.continue_run(run)
            if not await self._follow_up_began(run):
                break
            await self._conclude(run, None)

    async def _follow_up_began(self, run: RemoteRun) -> bool:
        """Continued conversation: stream until HA hears a voice, for ``wake.followup_s`` at most;
        without one the stream is ended (``audio-stop``) and the room goes back to its wake word."""
        try:
            async with asyncio.timeout(self.config.wake.followup_s):
                await run.voice_started.wait()
        except TimeoutError:
            pass
        if run.voice_started.is_set() and run.outcome is None:
            _LOGGER.info("assist satellite: a follow-up question is streaming to Home Assistant")
            return True
        self.link.end_audio(run)
        if run.outcome is None:
            run.finish(RunOutcome.NO_SPEECH)
        self.link.end_run(run)
        _LOGGER.info("assist satellite: no follow-up question; back to the wake word")
        return False

    async def ask_recorded(self, question: Pcm, text: str, last_voiced_s: float,
                           wake_word: str | None) -> None:
        """A question the box has recorded (and read as ``text``): HA's pipeline hears the audio."""
        try:
            run = self.link.begin_run(live=False, wake_word=wake_word)
        except LinkDownError:
            await self._say(HA_SILENT)
            return
        _LOGGER.info("assist satellite: %r goes to Home Assistant's pipeline", text)
        audio = question + Pcm.silence(TRAILING_SILENCE_S)
        step = int(CHUNK_S * audio.rate_hz) * audio.width
        for start in range(0, len(audio.audio), step):
            self.link.send_audio(run, Pcm(audio.audio[start:start + step], audio.rate_hz))
        self.link.end_audio(run)
        await self._conclude(run, last_voiced_s)

    async def _conclude(self, run: RemoteRun, last_voiced_s: float | None) -> None:
        """Wait (bounded) for HA to hear the question, begin its answer and finish playing it."""
        section = self.config.assist_satellite
        question_end_s = last_voiced_s
        try:
            try:
                async with asyncio.timeout(section.max_stream_s):
                    await run.streaming_ended.wait()
            except TimeoutError:
                _LOGGER.info("assist satellite: question streamed for %.0f s; ending it",
                             section.max_stream_s)
                self.link.end_audio(run)
            question_end_s = question_end_s if question_end_s is not None else self.clock()
            try:
                async with asyncio.timeout(section.answer_timeout_s):
                    await run.answer_began.wait()
                async with asyncio.timeout(self.config.wyoming.max_audio_s + section.answer_timeout_s):
                    await run.finished.wait()
            except TimeoutError:
                run.finish(RunOutcome.TIMEOUT)
        finally:
            self.link.end_run(run)
        await self._after(run, question_end_s)

    async def _after(self, run: RemoteRun, question_end_s: float) -> None:
        outcome = run.outcome
        _LOGGER.info("assist satellite: run ended: %s (heard %r, answered %r)", outcome,
                     run.transcript, run.reply)
        if outcome in (RunOutcome.TIMEOUT, RunOutcome.DISCONNECTED):
            await self._say(HA_SILENT)
        elif outcome is RunOutcome.ERROR:
            await self._say(HA_FAILED)
        if run.transcript:
            timings = TurnTimings(source=SOURCE)
            first = self.player.first_sound_s
            if outcome is RunOutcome.ANSWERED and first is not None and first >= question_end_s:
                timings.first_reply_audio_ms = (first - question_end_s) * 1000.0
            self.turns.record(TurnRequest(run.transcript, door="mic"),
                              TurnResult(run.transcript, run.reply, timings))

    async def _say(self, text: str) -> None:
        if not await self.playback.say(text):
            _LOGGER.info("assist satellite: %s (not spoken: no speaker)", text)
        self.playback.finished(self.clock())
