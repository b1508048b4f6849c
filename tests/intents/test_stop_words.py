"""Stop words: whole short sentences in English and Spanish, nothing that merely contains one."""

from __future__ import annotations

import pytest

from satellite.engines import Engines
from satellite.engines.stt import Transcript
from satellite.engines.whisper_decode import Hypothesis
from satellite.intents.stop_words import RING_MIN_LOGPROB, STOP_HINTS, heard_stop, is_stop, stop_heard
from scripts.room import spoken


@pytest.mark.parametrize(("language", "text"), [
    ("en", "Stop."), ("en", "Stop!"), ("en", "stop it please"), ("en", "Okay, stop."),
    ("en", "Never mind."), ("en", "Be quiet!"), ("en", "Cancel that."), ("en", "Please stop."),
    ("en", "Stop talking."), ("en", "That's enough."), ("en", "Stop the alarm."),
    ("es", "Para."), ("es", "¡Para ya!"), ("es", "Cállate."), ("es", "Olvídalo."),
    ("es", "Vale, para."), ("es", "Silencio, por favor."), ("es", "Basta."), ("es", "Cancela."),
    ("en", "Stop. Stop."), ("en", "Stop! Stop it!"), ("es", "¡Para! ¡Para!"),  # said again
    # (the room's "Okay, stop." over a reply, heard "Hey, stop. Hey, stop.")
    ("en", "Hey, stop."), ("en", "Hey, stop. Hey, stop."), ("es", "Oye, para."), ("es", "Eh, cállate."),
])
def test_a_stop_word_is_heard(language: str, text: str) -> None:
    assert is_stop(text, language)


@pytest.mark.parametrize(("language", "text"), [
    ("en", "stop the car before the bridge"), ("en", "don't stop"), ("en", "What a nice day."),
    ("en", "Turn off the kitchen lights."), ("en", "stop the music"), ("en", ""),
    ("en", "The bus stop is near."), ("es", "para qué sirve esto"), ("es", "No pares."),
    ("es", "Para mañana, pon una alarma."), ("fr", "Arrête."),  # no stop words in French
    ("en", "Stop. Turn on the lights."), ("en", "Sit. Sit."), ("en", "Hey, stop by later."),
    ("es", "Oye, para qué es esto?"),
])
def test_a_sentence_with_a_stop_word_in_it_is_no_stop(language: str, text: str) -> None:
    assert not is_stop(text, language)


def test_whisper_in_a_loop_is_no_stop_people_saying_it_again_are() -> None:
    assert not is_stop(" ".join(["Stop."] * 26), "en")
    assert not is_stop(" ".join(["That's enough."] * 8), "en")
    for said in ("Stop. Stop.", "Stop. Stop. Stop.", "Stop. Stop. Stop. Stop.", "Never mind. Never mind.",
                 "Para. Para.", "Stop talking. Stop talking."):
        assert is_stop(said, "es" if said.startswith("Para") else "en"), said


def test_a_stop_word_made_up_from_a_hum_is_no_stop() -> None:
    assert heard_stop(Transcript("Stop.", "en", 0.6, avg_logprob=-0.05), "en")
    assert not heard_stop(Transcript("That's enough.", "en", 0.6, avg_logprob=-0.7), "en")
    assert heard_stop(Transcript("Para.", "es", 0.6), "es")  # no figure (a remote engine)


def test_a_stop_word_second_in_the_beam_is_heard_when_the_beam_is_sure_of_it() -> None:
    """What the room heard over replies: the best hypothesis a near miss, the stop word next."""
    near_miss = Transcript("It's not talking.", "en", 1.2, avg_logprob=-0.21, alternatives=(
        Hypothesis("It is not talking.", -0.25), Hypothesis("Stop talking.", -0.28)))
    assert stop_heard(near_miss, "en") == "Stop talking."
    unsure_best = Transcript("Stop.", "en", 0.6, avg_logprob=-0.61, alternatives=(
        Hypothesis("Stop. Stop.", -0.79),))
    assert stop_heard(unsure_best, "en") == "Stop. Stop."
    # under another sentence or the box's own residual the stop words in the beam are unsure
    other = Transcript("Off the front door.", "en", 1.2, avg_logprob=-0.72, alternatives=(
        Hypothesis("Off the door.", -0.96), Hypothesis("Stop it. Stop it.", -1.22)))
    residual = Transcript("That's enough.", "en", 0.6, avg_logprob=-0.76, alternatives=(
        Hypothesis("Be quiet.", -1.0), Hypothesis("Stop. Stop.", -1.21)))
    sentence = Transcript("Turn on the kitchen light.", "en", 1.3, avg_logprob=-0.19,
                          alternatives=(Hypothesis("Turn on the kitchen lights.", -0.7),))
    for transcript in (other, residual, sentence):
        assert stop_heard(transcript, "en") is None and not heard_stop(transcript, "en")
    assert stop_heard(Transcript("Stop.", "en", 0.6, avg_logprob=-0.1), "en") == "Stop."


def test_over_a_ring_a_less_sure_stop_word_stops_it_a_made_up_one_does_not() -> None:
    """Heard again over a ring's tones: "Never mind." at -0.50 is a stop there, not over a reply;
    what the prompt made of the residual (-0.73 and lower) is none anywhere."""
    never_mind = Transcript("Never mind.", "en", 0.8, avg_logprob=-0.50)
    assert not heard_stop(never_mind, "en")
    assert heard_stop(never_mind, "en", RING_MIN_LOGPROB)
    assert not heard_stop(Transcript("That's enough.", "en", 0.6, avg_logprob=-0.73), "en",
                          RING_MIN_LOGPROB)
    assert not heard_stop(Transcript("Time to sacrifice.", "en", 0.9, avg_logprob=-0.1), "en",
                          RING_MIN_LOGPROB)


def test_the_stop_hint_turns_a_misheard_stop_into_stop(engines: Engines) -> None:
    """Piper's "Stop." as Whisper base hears it with the stop words as its prompt: a stop word,
    sure, or (as the listener does with an unsure one: a fresh clone's run heard it at -0.44)
    a stop word again when heard without the prompt."""
    stopped = []
    for _ in range(3):  # Piper's voice varies a little from one synthesis to the next
        said = spoken(engines.tts, "Stop.")
        heard = engines.stt.transcribe(said, STOP_HINTS["en"])
        assert is_stop(heard.text, "en"), heard
        # an unsure one the listener hears again without the prompt; that once gave "Let's stop."
        # (-0.50 with the prompt, on an AMD box): one synthesis in three may be missed so
        stopped.append(heard_stop(heard, "en") or is_stop(engines.stt.transcribe(said).text, "en"))
        other = engines.stt.transcribe(spoken(engines.tts, "What a lovely morning."), STOP_HINTS["en"])
        assert not heard_stop(other, "en") and "morning" in other.text.lower(), other
    assert sum(stopped) >= 2, stopped
