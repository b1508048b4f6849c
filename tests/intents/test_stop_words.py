"""Stop words: whole short sentences in English and Spanish, nothing that merely contains one."""

from __future__ import annotations

import pytest

from satellite.intents.stop_words import is_stop


@pytest.mark.parametrize(("language", "text"), [
    ("en", "Stop."), ("en", "Stop!"), ("en", "stop it please"), ("en", "Okay, stop."),
    ("en", "Never mind."), ("en", "Be quiet!"), ("en", "Cancel that."), ("en", "Please stop."),
    ("en", "Stop talking."), ("en", "That's enough."), ("en", "Stop the alarm."),
    ("es", "Para."), ("es", "¡Para ya!"), ("es", "Cállate."), ("es", "Olvídalo."),
    ("es", "Vale, para."), ("es", "Silencio, por favor."), ("es", "Basta."), ("es", "Cancela."),
])
def test_a_stop_word_is_heard(language: str, text: str) -> None:
    assert is_stop(text, language)


@pytest.mark.parametrize(("language", "text"), [
    ("en", "stop the car before the bridge"), ("en", "don't stop"), ("en", "What a nice day."),
    ("en", "Turn off the kitchen lights."), ("en", "stop the music"), ("en", ""),
    ("en", "The bus stop is near."), ("es", "para qué sirve esto"), ("es", "No pares."),
    ("es", "Para mañana, pon una alarma."), ("fr", "Arrête."),  # no stop words in French
])
def test_a_sentence_with_a_stop_word_in_it_is_no_stop(language: str, text: str) -> None:
    assert not is_stop(text, language)
