from __future__ import annotations

import pytest

from satellite.pipeline.guard import NO_CLAIM_BY_LANGUAGE, ReplyGuard, claims_action, is_looping
from satellite.pipeline.sentences import split_sentences


def test_stops_after_max_sentences() -> None:
    guard = ReplyGuard(max_sentences=2)
    assert guard.accept("One.") == "One."
    assert guard.accept("Two.") == "Two."
    assert guard.stopped and guard.stopped_because == "max_sentences"
    assert guard.accept("Three.") is None


def test_repeated_sentence_stops_generation() -> None:
    guard = ReplyGuard(max_sentences=5)
    assert guard.accept("I am a robot.") == "I am a robot."
    assert guard.accept("I am a  ROBOT!") is None
    assert guard.stopped_because == "repeated_sentence"


def test_looping_first_sentence_is_cut_short_but_spoken() -> None:
    guard = ReplyGuard()
    looping = "the cat sat on the mat " * 10
    spoken = guard.accept(looping)
    assert spoken is not None and len(spoken.split()) <= 20
    assert guard.stopped_because == "degenerate"


def test_looping_later_sentence_is_dropped() -> None:
    guard = ReplyGuard()
    guard.accept("Fine.")
    assert guard.accept("go go go go go go go go go go") is None
    assert guard.accepted == ["Fine."]


def test_echo_of_question_is_skipped_not_stopping() -> None:
    guard = ReplyGuard(echo_of="who wrote pride and prejudice")
    assert guard.accept("Who wrote Pride and Prejudice?") is None
    assert not guard.stopped
    assert guard.accept("Jane Austen did.") == "Jane Austen did."


def test_is_looping_table() -> None:
    assert is_looping("a b c a b c a b c".split())
    assert not is_looping("the quick brown fox jumps over the lazy dog".split())


def test_the_language_model_never_claims_it_switched_something() -> None:
    guard = ReplyGuard(max_sentences=4)
    assert guard.accept("Turning on the kitchen lights.") == "I can't control devices myself."
    assert guard.accept("Okay, I've turned off the light.") is None  # said once is enough
    assert guard.accept("The sea is deep.") == "The sea is deep."


def test_talk_about_switching_is_not_a_claim() -> None:
    for sentence in ("You can turn on the oven to 200 degrees.", "Lights are switched by relays.",
                     "Open questions remain.", "Start by boiling water.",
                     "The door was locked at night."):
        assert ReplyGuard().accept(sentence) == sentence, sentence


@pytest.mark.parametrize(
    ("sentence", "claims"),
    [
        # the device's new state said as done (a CI run's misheard "Turting off the bedroom lamp"
        # went to the model: "Done, the lamp is off." would have been spoken as it came)
        ("Done, the bedroom lamp is off.", True),
        ("Okay, done!", True),
        ("The bedroom lamp is now off.", True),
        ("The lights are now on in the kitchen.", True),
        ("Your timer has been set.", True),
        ("The front door has been locked.", True),
        ("Done right, bread takes an hour.", False),
        ("The shop is closed on Sundays.", False),
        ("The sea is now calmer.", False),
        ("The game is now on TV.", False),
        ("Once the water is on, wait a minute.", False),
    ],
)
def test_a_state_said_as_done_is_a_claim(sentence: str, claims: bool) -> None:
    assert claims_action(sentence) is claims


@pytest.mark.parametrize(
    ("sentence", "claims"),
    [
        ("Encendiendo la luz de la cocina.", True),
        ("La luz de la cocina ya está apagada.", True),
        ("La puerta ha sido cerrada.", True),
        ("La tienda está cerrada los domingos.", False),
        ("Vale, apagado.", True),
        ("He cerrado la puerta principal.", True),
        ("Ya he puesto la alarma.", True),
        ("Voy a encender las luces.", True),
        ("La luz de la cocina está encendida desde esta mañana, según me dices.", False),
        ("Madrid es la capital de España.", False),
        ("¿Quieres que te cuente un chiste?", False),
    ],
)
def test_spanish_action_claims_are_recognized(sentence: str, claims: bool) -> None:
    assert claims_action(sentence) is claims


def test_a_spanish_claim_is_replaced_by_the_truth_in_spanish() -> None:
    guard = ReplyGuard(no_claim=NO_CLAIM_BY_LANGUAGE["es"])
    assert guard.accept("He encendido la luz.") == "Yo no puedo controlar los aparatos de la casa."


def test_a_reply_may_begin_unless_it_claims_or_parrots() -> None:
    guard = ReplyGuard(echo_of="Who wrote Pride and Prejudice?")
    assert guard.may_begin("Jane Austen wrote Pride and")
    assert not guard.may_begin("Who wrote Pride and")  # maybe the question again: wait for it
    assert not guard.may_begin("Sure, I've turned on the")
    assert not guard.may_begin("Turning off the lights now")
    guard.accept("Jane Austen wrote it.")
    assert not guard.may_begin("She was born in")  # only the first sentence is begun early


@pytest.mark.parametrize(("question", "reply", "spoken"), [
    ("I just got home from work.", "I'm sorry for your loss. Welcome home!", ["Welcome home!"]),
    ("Thanks a lot.", "I'm sorry for your loss.", []),
    ("Se nos ha acabado la leche.", "Lamento tu pérdida. Habrá que comprar más.", ["Habrá que comprar más."]),
    ("My grandmother died last week.", "I'm sorry for your loss.", ["I'm sorry for your loss."]),
    ("Mi perro murió ayer.", "Siento mucho tu pérdida.", ["Siento mucho tu pérdida."]),
])
def test_condolences_only_where_a_loss_was_mentioned(question: str, reply: str, spoken: list[str]) -> None:
    guard = ReplyGuard(echo_of=question)
    said = [s for s in (guard.accept(sentence) for sentence in split_sentences(reply)) if s]
    assert said == spoken


def test_a_reply_that_may_go_on_into_condolences_waits_for_its_whole_sentence() -> None:
    guard = ReplyGuard(echo_of="I just got home from work.")
    assert not guard.may_begin("I'm sorry")  # "…for your loss" may follow
    assert not guard.may_begin("I'm sorry for")
    assert not guard.may_begin("Lamento tu")
    assert guard.may_begin("I'm sorry,")  # "I'm sorry, I can't help with that."
    assert guard.may_begin("Welcome home")


def test_a_reply_that_begins_with_the_whole_question_is_an_echo() -> None:
    guard = ReplyGuard(echo_of="the blue one over")
    assert guard.accept("the blue one over the other.") is None
    assert guard.accept("Which one do you mean?") == "Which one do you mean?"
    short = ReplyGuard(echo_of="Hearts.")  # too short to call a reply that begins with it an echo
    assert short.accept("Hearts is a card game.") == "Hearts is a card game."
