"""Stop words: whole short sentences in English and Spanish, nothing that merely contains one."""

from __future__ import annotations

import pytest

from satellite.engines import Engines
from satellite.engines.stt import Transcript
from satellite.intents.stop_words import STOP_HINTS, heard_stop, is_stop
from scripts.room import spoken


@pytest.mark.parametrize(("language", "text"), [
    ("en", "Stop."), ("en", "Stop!"), ("en", "stop it please"), ("en", "Okay, stop."),
    ("en", "Never mind."), ("en", "Be quiet!"), ("en", "Cancel that."), ("en", "Please stop."),
    ("en", "Stop talking."), ("en", "That's enough."), ("en", "Stop the alarm."),
    ("es", "Para."), ("es", "¡Para ya!"), ("es", "Cállate."), ("es", "Olvídalo."),
    ("es", "Vale, para."), ("es", "Silencio, por favor."), ("es", "Basta."), ("es", "Cancela."),
    ("en", "Stop. Stop."), ("en", "Stop! Stop it!"), ("es", "¡Para! ¡Para!"),  # said again
])
def test_a_stop_word_is_heard(language: str, text: str) -> None:
    assert is_stop(text, language)


@pytest.mark.parametrize(("language", "text"), [
    ("en", "stop the car before the bridge"), ("en", "don't stop"), ("en", "What a nice day."),
    ("en", "Turn off the kitchen lights."), ("en", "stop the music"), ("en", ""),
    ("en", "The bus stop is near."), ("es", "para qué sirve esto"), ("es", "No pares."),
    ("es", "Para mañana, pon una alarma."), ("fr", "Arrête."),  # no stop words in French
    ("en", "Stop. Turn on the lights."), ("en", "Sit. Sit."),
])
def test_a_sentence_with_a_stop_word_in_it_is_no_stop(language: str, text: str) -> None:
    assert not is_stop(text, language)


def test_a_stop_word_made_up_from_a_hum_is_no_stop() -> None:
    assert heard_stop(Transcript("Stop.", "en", 0.6, avg_logprob=-0.05), "en")
    assert not heard_stop(Transcript("That's enough.", "en", 0.6, avg_logprob=-0.7), "en")
    assert heard_stop(Transcript("Para.", "es", 0.6), "es")  # no figure (a remote engine)


def test_the_stop_hint_turns_a_misheard_stop_into_stop(engines: Engines) -> None:
    """Piper's "Stop." as Whisper base hears it with the stop words as its prompt."""
    for _ in range(3):  # Piper's voice varies a little from one synthesis to the next
        heard = engines.stt.transcribe(spoken(engines.tts, "Stop."), STOP_HINTS["en"])
        assert heard_stop(heard, "en"), heard
        other = engines.stt.transcribe(spoken(engines.tts, "What a lovely morning."), STOP_HINTS["en"])
        assert not heard_stop(other, "en") and "morning" in other.text.lower(), other
