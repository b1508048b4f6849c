"""The answer benchmark's scoring rule on fixed replies, and its shipped question set."""

from __future__ import annotations

import pytest

from satellite.benchdata.answers import KINDS, AnswerQuestion, load_questions, score

CAPITAL = AnswerQuestion("en", "fact", "What is the capital of Italy?", ("rome",))
SUM = AnswerQuestion("en", "exact", "What is 17 plus 26?", ("43",))
HOME = AnswerQuestion("en", "statement", "I just got home from work.", ())
MILK = AnswerQuestion("es", "statement", "Se nos ha acabado la leche.", ())
BRASIL = AnswerQuestion("es", "fact", "¿Qué idioma se habla en Brasil?", ("portugues",))


@pytest.mark.parametrize(("question", "reply", "verdict"), [
    (CAPITAL, "The capital of Italy is Rome.", "right"),
    (CAPITAL, "The capital of Italy is Milan.", "wrong"),
    (CAPITAL, "I'm not sure about that one.", "unsure"),
    (CAPITAL, "I don't know, but Rome is a guess.", "unsure"),  # hedged counts as unsure
    (SUM, "17 plus 26 is 43.", "right"),
    (SUM, "17 + 26 = 40", "wrong"),
    (HOME, "Welcome home! How was your day?", "right"),
    (HOME, "Sorry, I didn't catch a question there.", "right"),
    (HOME, "I'm sorry for your loss. I'll be happy to help you.", "unfitting"),
    (HOME, "I just got home from work.", "unfitting"),  # parroted
    (HOME, "Welcome. Work is hard. Rest now. Have tea.", "unfitting"),  # over two sentences
    (MILK, "Vaya, habrá que comprar más.", "right"),
    (MILK, "Lamento tu pérdida.", "unfitting"),
    (BRASIL, "En Brasil se habla portugués.", "right"),  # accents ignored
    (BRASIL, "No lo sé.", "unsure"),
    (AnswerQuestion("en", "fact", "How many months are in a year?", ("12", "twelve")),
     "A year is approximately 120 months.", "wrong"),  # whole words: "12" is not in "120"
])
def test_the_scoring_rule(question: AnswerQuestion, reply: str, verdict: str) -> None:
    assert score(question, reply) == verdict


def test_the_shipped_set_has_every_kind_in_both_languages() -> None:
    questions = load_questions()
    for language in ("en", "es"):
        kinds = {q.kind for q in questions if q.language == language}
        assert kinds == set(KINDS), (language, kinds)
    assert all(q.expected for q in questions if q.kind in ("fact", "exact"))
    assert not any(q.expected for q in questions if q.kind in ("statement", "fragment"))
    assert load_questions("es") and all(q.language == "es" for q in load_questions("es"))


def test_the_unsure_checks_tuning_set_is_facts_apart_from_the_benchmarks() -> None:
    tuning = load_questions(name="facts_dev.tsv")
    assert len(tuning) >= 100 and {q.kind for q in tuning} == {"fact"}
    assert {q.language for q in tuning} == {"en", "es"} and all(q.expected for q in tuning)
    assert not {q.text for q in tuning} & {q.text for q in load_questions()}  # held out
