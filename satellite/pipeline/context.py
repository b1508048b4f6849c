"""Fit a prompt into the LLM's context: system prompt + as much recent history as fits + the question.

The reply needs room too (``reply_tokens``). History goes oldest first, one whole
exchange at a time, so a long conversation never makes every later turn fail;
a question that does not fit even alone is refused with ``InputError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from satellite.engines.llm import ChatMessage
from satellite.errors import InputError

# Role markers and separators a chat template adds around each message (ChatML: ~5).
MESSAGE_OVERHEAD_TOKENS = 8


def fit_context(system_prompt: str, history: Sequence[ChatMessage], question: str, *,
                count_tokens: Callable[[str], int], context_tokens: int, reply_tokens: int
                ) -> list[ChatMessage]:
    """The messages to send: pure over its inputs (``count_tokens`` is the model's tokenizer)."""
    budget = context_tokens - reply_tokens

    def cost(message: ChatMessage) -> int:
        return count_tokens(message.content) + MESSAGE_OVERHEAD_TOKENS

    system = ChatMessage("system", system_prompt)
    user = ChatMessage("user", question)
    fixed = cost(system) + cost(user)
    if fixed > budget:
        raise InputError(f"the question is too long for the model: {fixed} tokens of prompt, "
                         f"{budget} available (llm.n_ctx {context_tokens} - llm.max_tokens "
                         f"{reply_tokens})")
    kept: list[ChatMessage] = []
    used = fixed
    exchanges = [list(history[i:i + 2]) for i in range(len(history) - 2, -2, -2) if i >= 0]
    if len(history) % 2:  # an odd message at the start: keep it with nothing else
        exchanges.append([history[0]])
    for exchange in exchanges:  # newest first
        exchange_cost = sum(cost(m) for m in exchange)
        if used + exchange_cost > budget:
            break
        kept = exchange + kept
        used += exchange_cost
    return [system, *kept, user]
