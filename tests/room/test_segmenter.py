"""VadSegmenter on plain data: frames and voiced/unvoiced decisions, no audio devices, no clock."""

from __future__ import annotations

import pytest

from satellite.room.segmenter import (
    SilenceBegan,
    SpeechDiscarded,
    SpeechResumed,
    SpeechStarted,
    UtteranceEnded,
    VadSegmenter,
)

FRAME = 480  # 30 ms at 16 kHz


def frames(pattern: str) -> list[tuple[bytes, bool]]:
    """'.' = silent frame, '#' = voiced frame; each frame's bytes carry its index."""
    out = []
    for i, ch in enumerate(pattern):
        out.append(((i % 256).to_bytes(1, "little") * (2 * FRAME), ch == "#"))
    return out


def run(segmenter: VadSegmenter, pattern: str, flush: bool = False) -> list[object]:
    events: list[object] = []
    for frame, voiced in frames(pattern):
        events.extend(segmenter.feed(frame, voiced))
    if flush:
        events.extend(segmenter.flush())
    return events


def make(**options: object) -> VadSegmenter:
    defaults: dict[str, object] = {"preroll_ms": 90, "hangover_ms": 300, "min_speech_ms": 150,
                "max_utterance_s": 15.0, "speculate_ms": 90}
    defaults.update(options)
    return VadSegmenter(FRAME, **defaults)  # type: ignore[arg-type]


def test_utterance_keeps_preroll_and_measures_end_of_speech() -> None:
    pattern = "." * 10 + "#" * 20 + "." * 12
    events = run(make(), pattern)
    kinds = [type(e) for e in events]
    assert kinds == [SpeechStarted, SilenceBegan, UtteranceEnded]
    ended = events[-1]
    assert isinstance(ended, UtteranceEnded)
    assert ended.start_s == pytest.approx(0.30)
    assert ended.audio_start_s == pytest.approx(0.21)  # 3 frames of pre-roll
    assert ended.last_voiced_s == pytest.approx(0.90)
    assert ended.end_of_speech_ms == pytest.approx(300.0)  # the hangover, 10 frames
    assert ended.reason == "silence"
    # pre-roll (3) + speech (20) + the speculative tail (3) frames, first byte = frame index
    audio = ended.pcm.audio
    assert len(audio) == 26 * FRAME * 2
    assert audio[0] == 7 and audio[3 * FRAME * 2] == 10


def test_speculative_audio_is_the_final_audio_when_speech_does_not_resume() -> None:
    events = run(make(), "#" * 10 + "." * 10)
    began = next(e for e in events if isinstance(e, SilenceBegan))
    ended = next(e for e in events if isinstance(e, UtteranceEnded))
    assert began.pcm == ended.pcm and began.utterance == ended.utterance


def test_speech_resuming_after_a_pause_keeps_one_utterance() -> None:
    events = run(make(), "#" * 10 + "." * 5 + "#" * 10 + "." * 10)
    kinds = [type(e) for e in events]
    assert kinds == [SpeechStarted, SilenceBegan, SpeechResumed, SilenceBegan, UtteranceEnded]
    ended = events[-1]
    assert isinstance(ended, UtteranceEnded) and ended.last_voiced_s == pytest.approx(0.75)


def test_two_utterances_separated_by_silence() -> None:
    events = run(make(), "." * 5 + "#" * 10 + "." * 20 + "#" * 12 + "." * 15)
    ended = [e for e in events if isinstance(e, UtteranceEnded)]
    assert [e.utterance for e in ended] == [1, 2]
    assert [round(e.start_s, 2) for e in ended] == [0.15, 1.05]


def test_clicks_and_coughs_are_discarded() -> None:
    events = run(make(), "." * 5 + "##" + "." * 15 + "#" + "." * 15)
    assert not any(isinstance(e, UtteranceEnded) for e in events)
    assert [type(e) for e in events].count(SpeechDiscarded) == 2
    assert not any(isinstance(e, SilenceBegan) for e in events)


def test_silence_alone_yields_nothing() -> None:
    assert run(make(), "." * 500, flush=True) == []


def test_maximum_length_cuts_an_endless_utterance() -> None:
    events = run(make(max_utterance_s=1.5), "#" * 120)
    ended = [e for e in events if isinstance(e, UtteranceEnded)]
    assert len(ended) == 2 and all(e.reason == "max_length" for e in ended)
    assert ended[0].pcm.seconds == pytest.approx(1.5)


def test_end_of_input_ends_the_utterance_in_progress() -> None:
    events = run(make(), "#" * 10, flush=True)
    assert isinstance(events[-1], UtteranceEnded) and events[-1].reason == "end_of_input"


def test_reset_forgets_the_utterance_in_progress() -> None:
    segmenter = make()
    run(segmenter, "#" * 10)
    segmenter.reset()
    assert run(segmenter, "." * 20) == []


def test_reconfigure_applies_from_the_next_frame() -> None:
    segmenter = make()
    segmenter.configure(preroll_ms=0, hangover_ms=600, min_speech_ms=30, max_utterance_s=15.0)
    events = run(segmenter, "#" + "." * 19 + "#" * 2 + "." * 20)
    ended = [e for e in events if isinstance(e, UtteranceEnded)]
    assert len(ended) == 1 and ended[0].end_of_speech_ms == pytest.approx(600.0)
    assert ended[0].voiced_ms == pytest.approx(90.0)


def test_skipped_frames_keep_stream_time() -> None:
    segmenter = make()
    run(segmenter, "." * 10)
    segmenter.skip(20)
    events = run(segmenter, "#" * 10 + "." * 10)
    assert isinstance(events[0], SpeechStarted) and events[0].start_s == pytest.approx(0.9)


def test_end_now_ends_a_finished_utterance_in_its_silence_with_the_speculative_audio() -> None:
    segmenter = make()
    events = run(segmenter, "#" * 10 + "." * 4)  # SilenceBegan after 3 silent frames
    began = next(e for e in events if isinstance(e, SilenceBegan))
    ended = segmenter.end_now("complete")
    assert isinstance(ended, UtteranceEnded)
    assert ended.reason == "complete" and ended.pcm == began.pcm
    assert ended.end_of_speech_ms == pytest.approx(120.0)
    assert segmenter.end_now("complete") is None  # nothing in progress any more
    assert run(segmenter, "." * 20) == []


def test_end_now_needs_silence_after_speech() -> None:
    segmenter = make()
    run(segmenter, "#" * 10)
    assert segmenter.end_now("complete") is None  # still speaking
    assert run(make(), "...") == [] and make().end_now("complete") is None


def test_hold_waits_longer_for_a_question_that_trails_off_then_speech_resumes() -> None:
    segmenter = make()
    run(segmenter, "#" * 10 + "." * 3)
    segmenter.hold(900)  # 30 frames instead of the hangover's 10
    assert run(segmenter, "." * 20) == []  # 23 silent frames: past the hangover, still held
    events = run(segmenter, "#" * 10 + "." * 10)
    kinds = [type(e) for e in events]
    # speech resumed: the hold is gone, the next silence gets the configured hangover again
    assert kinds == [SpeechResumed, SilenceBegan, UtteranceEnded]
    assert isinstance(events[-1], UtteranceEnded) and events[-1].end_of_speech_ms == pytest.approx(300)


def test_hold_shorter_than_the_silence_so_far_ends_at_the_next_frame() -> None:
    segmenter = make()
    run(segmenter, "#" * 10 + "." * 8)
    segmenter.hold(60)
    events = run(segmenter, ".")
    assert [type(e) for e in events] == [UtteranceEnded]
    assert isinstance(events[0], UtteranceEnded) and events[0].reason == "silence"


def test_a_hold_for_a_finished_question_ends_it_as_complete() -> None:
    """The transcript came before the shortest hangover: the question ends after it, as complete."""
    segmenter = make()
    run(segmenter, "#" * 10 + "." * 3)
    segmenter.hold(150, "complete")
    events = run(segmenter, "." * 2)
    assert [(type(e), getattr(e, "reason", None)) for e in events] == [(UtteranceEnded, "complete")]
    assert isinstance(events[0], UtteranceEnded) and events[0].end_of_speech_ms == pytest.approx(150)


def test_the_sound_ends_where_the_voice_does_not_where_the_vad_stops_calling_it_voiced() -> None:
    """WebRTC's VAD calls ~0.1 s after the last sound voiced: latency starts at the sound's end."""
    import numpy as np

    silent, loud = np.zeros(FRAME, "<i2"), np.full(FRAME, 3000, "<i2")
    faint = np.full(FRAME, 40, "<i2")  # the room's noise, judged voiced by the VAD's hangover
    segmenter = make()
    events: list[object] = []
    for samples, voiced in [(silent, False)] * 5 + [(loud, True)] * 10 + [(faint, True)] * 4 + [
            (silent, False)] * 12:
        events.extend(segmenter.feed(samples.tobytes(), voiced))
    ended = next(e for e in events if isinstance(e, UtteranceEnded))
    assert ended.last_voiced_s == pytest.approx((5 + 14) * 0.03)
    assert ended.heard_end_s == pytest.approx((5 + 10) * 0.03)


def test_a_faint_fricative_the_vad_left_out_still_counts_as_sound() -> None:
    import numpy as np

    silent, loud = np.zeros(FRAME, "<i2"), np.full(FRAME, 3000, "<i2")
    hiss = np.full(FRAME, 800, "<i2")  # the "s" of "lights": sound, but not speech to the VAD
    segmenter = make()
    events: list[object] = []
    for samples, voiced in [(silent, False)] * 5 + [(loud, True)] * 10 + [(hiss, False)] * 2 + [
            (silent, False)] * 12:
        events.extend(segmenter.feed(samples.tobytes(), voiced))
    ended = next(e for e in events if isinstance(e, UtteranceEnded))
    assert ended.last_voiced_s == pytest.approx((5 + 10) * 0.03)
    assert ended.heard_end_s == pytest.approx((5 + 12) * 0.03)


def sounds(pattern: str) -> list[tuple[bytes, bool]]:
    """'#' = loud and voiced, '~' = quiet but the VAD still calls it voiced (its release, or a
    soft voice), '.' = quiet and silent, '!' = loud but silent (a click, or a syllable the VAD
    has not called yet), 's' = faint but above the floor and silent (a final "s")."""
    def frame(level: int) -> bytes:
        return level.to_bytes(2, "little", signed=True) * FRAME
    levels = {"#": 3000, "!": 3000, "s": 1000}
    return [(frame(levels.get(ch, 40)), ch in "#~") for ch in pattern]


def feed_sounds(segmenter: VadSegmenter, pattern: str) -> list[tuple[int, object]]:
    """(frame index, event) for each event."""
    return [(i, event) for i, (frame, voiced) in enumerate(sounds(pattern))
            for event in segmenter.feed(frame, voiced)]


def test_a_quiet_gap_starts_speculation_before_the_vad_lets_go() -> None:
    """70 ms of quiet after loud speech: SilenceBegan while the VAD still says 'voiced'."""
    pattern = "." * 5 + "#" * 20 + "~" * 4 + "." * 12
    events = feed_sounds(make(speculate_ms=30, sound_gap_ms=70), pattern)
    kinds = [(i, type(e)) for i, e in events]
    assert kinds == [(5, SpeechStarted), (27, SilenceBegan), (38, UtteranceEnded)]  # hangover 300
    began, ended = events[1][1], events[2][1]
    assert isinstance(began, SilenceBegan) and isinstance(ended, UtteranceEnded)
    assert began.last_voiced_s == pytest.approx(0.75)  # where the sound stopped, not the VAD
    assert ended.pcm == began.pcm  # the speculative transcript is of the final audio
    assert ended.last_voiced_s == pytest.approx(0.87)  # the VAD's own figure is kept
    assert ended.heard_end_s == pytest.approx(0.75)
    vad_only = [(i, type(e)) for i, e in feed_sounds(make(speculate_ms=30), pattern)]
    assert (29, SilenceBegan) in vad_only  # 60 ms later without the quiet gap


def test_loud_speech_after_a_quiet_gap_resumes_and_is_kept() -> None:
    pattern = "." * 5 + "#" * 10 + "~" * 3 + "#" * 10 + "~" * 3 + "." * 12
    events = feed_sounds(make(speculate_ms=30, sound_gap_ms=70), pattern)
    assert [type(e) for _, e in events] == [SpeechStarted, SilenceBegan, SpeechResumed,
                                            SilenceBegan, UtteranceEnded]
    ended = events[-1][1]
    assert isinstance(ended, UtteranceEnded) and ended.pcm == events[3][1].pcm
    assert len(ended.pcm.audio) == (3 + 10 + 3 + 10 + 3) * FRAME * 2  # both parts, pre-roll 3


def test_a_soft_voice_after_a_quiet_gap_is_not_cut() -> None:
    """Quiet but voiced for longer than the VAD's release: the person goes on softly; the gap's
    speculation is dropped and the VAD alone ends this utterance, with all of it."""
    pattern = "." * 5 + "#" * 10 + "~" * 15 + "." * 12
    events = feed_sounds(make(speculate_ms=30, sound_gap_ms=70), pattern)
    assert [type(e) for _, e in events] == [SpeechStarted, SilenceBegan, SpeechResumed,
                                            SilenceBegan, UtteranceEnded]
    began, ended = events[3][1], events[4][1]
    assert isinstance(began, SilenceBegan) and isinstance(ended, UtteranceEnded)
    assert len(ended.pcm.audio) == (3 + 10 + 15 + 1) * FRAME * 2  # the soft part and one silent
    assert ended.pcm == began.pcm


def test_a_loud_room_never_looks_quiet() -> None:
    """Noise in the pre-roll as loud as the speech: no quiet gap, the VAD decides."""
    pattern = "!" * 5 + "#" * 10 + "!" * 4 + "." * 12
    events = feed_sounds(make(speculate_ms=30, sound_gap_ms=70), pattern)
    assert [(i, type(e)) for i, e in events][:2] == [(5, SpeechStarted), (15, SilenceBegan)]


def test_the_sound_end_counts_a_faint_ending_when_the_vad_called_speech_late() -> None:
    """The pre-roll holds the first syllable (the VAD called it a frame late): the room's noise
    is still judged from its quiet part, and the faint final "s" is the end of the sound."""
    pattern = "." * 8 + "!" + "#" * 20 + "ss" + "." * 14
    events = feed_sounds(make(speculate_ms=30, sound_gap_ms=70), pattern)
    ended = events[-1][1]
    assert isinstance(ended, UtteranceEnded)
    assert ended.last_voiced_s == pytest.approx(0.87)  # the VAD's last voiced frame
    assert ended.heard_end_s == pytest.approx(0.93)  # after the two faint frames


def test_a_held_question_goes_on_when_the_next_words_are_loud_before_the_vad_calls_them() -> None:
    """"… and then" (held: it trails off), a pause longer than the hangover, then "the hallway
    lamp", whose first frame is loud before the VAD calls it speech: one question, not cut there.

    The resumption cleared the hold while the VAD's silence count stood past the configured
    hangover, which ended the question at that frame (a CI run heard "…and then." alone)."""
    segmenter = make(speculate_ms=30, sound_gap_ms=70)
    first = [(i, e) for i, (frame, voiced) in enumerate(sounds("." * 5 + "#" * 10 + "~" * 3))
             for e in segmenter.feed(frame, voiced)]
    assert [type(e) for _, e in first] == [SpeechStarted, SilenceBegan]  # the quiet gap
    segmenter.hold(1200)  # the speculative transcript trails off
    rest = [e for frame, voiced in sounds("." * 20 + "!" + "#" * 10 + "." * 12)
            for e in segmenter.feed(frame, voiced)]
    assert [type(e) for e in rest] == [SpeechResumed, SilenceBegan, UtteranceEnded], rest
    ended = rest[-1]
    assert isinstance(ended, UtteranceEnded) and ended.reason == "silence"
    assert len(ended.pcm.audio) >= (3 + 10 + 3 + 20 + 1 + 10) * FRAME * 2  # both parts
