"""Fitting a prompt into the model's context: pure, with a word-counting tokenizer."""

from __future__ import annotations

import pytest

from satellite.engines.llm import ChatMessage
from satellite.errors import InputError
from satellite.pipeline.context import MESSAGE_OVERHEAD_TOKENS, fit_context


def words(text: str) -> int:
    return len(text.split())


def exchange(n: int, size: int) -> list[ChatMessage]:
    return [ChatMessage("user", f"q{n} " + "w " * size), ChatMessage("assistant", f"a{n}")]


@pytest.mark.parametrize(("context_tokens", "kept_exchanges"), [
    (1000, 3),  # everything fits
    (100, 2),  # the oldest goes first
    (70, 1),
    (60, 0),  # only the question
])
def test_history_is_kept_newest_first_in_whole_exchanges(context_tokens: int,
                                                         kept_exchanges: int) -> None:
    history = exchange(1, 10) + exchange(2, 10) + exchange(3, 10)
    messages = fit_context("be brief", history, "and now?", count_tokens=words,
                           context_tokens=context_tokens, reply_tokens=20)
    assert messages[0] == ChatMessage("system", "be brief")
    assert messages[-1] == ChatMessage("user", "and now?")
    kept = messages[1:-1]
    assert kept == history[len(history) - 2 * kept_exchanges:]
    used = sum(words(m.content) + MESSAGE_OVERHEAD_TOKENS for m in messages)
    assert used <= context_tokens - 20


def test_a_question_that_cannot_fit_alone_is_refused() -> None:
    with pytest.raises(InputError, match="too long for the model"):
        fit_context("be brief", [], "w " * 100, count_tokens=words, context_tokens=100,
                    reply_tokens=20)
