"""Language model: a small streaming interface and its llama.cpp (GGUF) implementation.

The chat template comes from the GGUF metadata (llama-cpp-python reads
``tokenizer.chat_template``), so LFM2-1.2B and SmolLM2 work the same way.

The system prompt's KV state is kept: llama.cpp reuses the longest prefix the
previous prompt shares with the next, so turns after one another skip the
system prompt; ``SystemPromptStates`` also restores it after a different prompt
ran (another system prompt, the self-test), which saves its prefill (~270 ms
for the default prompt with SmolLM2 on 2 cores).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from satellite.config.paths import default_llm_model
from satellite.config.schema import LlmConfig
from satellite.errors import BusyError, InputError, ModelError

_LOGGER = logging.getLogger(__name__)
GGUF_MAGIC = b"GGUF"
GENERATION_WAIT_S = 60.0  # the longest a generation waits for another on the same model


class Piece(str):
    """A piece of a streamed reply that also carries its tokens' probabilities: ``tokens`` holds
    (token text, probability the model gave it) for the tokens sampled since the previous piece.
    An engine that cannot tell (a remote one) yields plain ``str``: no probabilities known."""

    tokens: tuple[tuple[str, float], ...] = ()

    @classmethod
    def of(cls, text: str, tokens: tuple[tuple[str, float], ...]) -> Piece:
        piece = cls(text)
        piece.tokens = tokens
        return piece


class TokenProbabilities:
    """A llama.cpp logits processor that keeps the probability of each token the model samples.

    Token log-probabilities through llama-cpp-python's API need ``logits_all`` (a row of logits
    per context token: ~400 MB for SmolLM2's vocabulary at 2048 tokens). This sees the one row
    of each step instead and keeps its top few. Which of them was chosen shows in the next
    step's input, or, for the token just streamed, in the piece's own text (``take``). Cost: one
    softmax over the vocabulary per token (~0.2 ms).
    """

    TOP = 8

    def __init__(self, detokenize: Any):
        self._detokenize = detokenize
        self._pending: dict[int, float] | None = None
        self._resolved: list[tuple[str, float]] = []

    def __call__(self, input_ids: Any, logits: Any) -> Any:
        import numpy as np

        if self._pending is not None and len(input_ids):
            self._resolve(int(input_ids[-1]))
        highest = logits.max()
        total = float(np.exp(logits - highest).sum())
        top = np.argpartition(logits, -self.TOP)[-self.TOP:]
        probabilities = np.exp(logits[top] - highest) / total
        self._pending = dict(zip(top.tolist(), probabilities.tolist(), strict=True))
        return logits

    def _text(self, token: int) -> str:
        return self._detokenize([token]).decode("utf-8", errors="ignore")

    def _resolve(self, token: int) -> None:
        assert self._pending is not None
        # not among the top few (a repeat penalty changed the choice): at most the smallest kept
        probability = self._pending.get(token, min(self._pending.values()))
        self._resolved.append((self._text(token), probability))
        self._pending = None

    def take(self, piece: str) -> tuple[tuple[str, float], ...]:
        """The tokens of the ``piece`` just streamed: those resolved since the last call, and the
        last sampled one, found among the candidates by its text (the likeliest if none fits)."""
        pending = self._pending
        if pending is not None:
            texts = {token: self._text(token) for token in pending}
            fitting = [t for t in pending if texts[t] and piece.endswith(texts[t])]
            chosen = (max(fitting, key=lambda t: (len(texts[t]), pending[t])) if fitting
                      else max(pending, key=pending.__getitem__))
            self._resolved.append((texts[chosen], pending[chosen]))
            self._pending = None
        taken, self._resolved = tuple(self._resolved), []
        return taken


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str


class LanguageModel(Protocol):
    name: str
    identity: str
    context_tokens: int  # prompt + reply must fit in this many tokens

    def stream(self, messages: list[ChatMessage], cancel: threading.Event | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        """Yield pieces of the assistant's reply as they are generated (``Piece`` where the
        engine knows its tokens' probabilities)."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` takes in the prompt."""
        ...


def generation_threads() -> int:
    """All cores but one: on two cores, an LLM on both made the wake word model fall behind in
    real time while it generated (barge-in missed); one core is left to the microphone."""
    return max(1, (os.cpu_count() or 1) - 1)


def llama_system_info() -> str:
    """What llama.cpp's CPU backend reports: "CPU : SSE3 = 1 | ... | AVX512 = 1 | AMX_INT8 = 1 | ..."."""
    import llama_cpp

    return llama_cpp.llama_print_system_info().decode("utf-8", errors="replace").strip()


def use_extra_buffers(setting: str, system_info: str) -> bool:
    """Whether llama.cpp may put weights in its extra buffer types (repacked for AMX, or for the
    ARM/AVX2 repack kernels). ``auto``: not where llama.cpp reports AMX, whose path segfaults on
    the first decode of a Q4_1 model (ggml-org/llama.cpp#20824, seen on a 2-core Xeon with AMX)."""
    if setting != "auto":
        return setting == "enabled"
    return not re.search(r"\bAMX_(INT8|BF16) = 1\b", system_info)


_PARAMS_LOCK = threading.Lock()


def set_default_extra_buffers(use_extra_bufts: bool) -> Any:
    """llama-cpp-python's ``Llama`` takes no ``use_extra_bufts``: its default model parameters
    are given the field. Returns the previous defaults function, to put back."""
    import llama_cpp.llama_cpp as bindings

    defaults = bindings.llama_model_default_params

    def params() -> Any:
        value = defaults()
        value.use_extra_bufts = use_extra_bufts
        return value

    bindings.llama_model_default_params = params
    return defaults


@contextlib.contextmanager
def _model_params(*, use_extra_bufts: bool) -> Iterator[None]:
    """The extra buffers set while one model is constructed."""
    import llama_cpp.llama_cpp as bindings

    with _PARAMS_LOCK:
        defaults = set_default_extra_buffers(use_extra_bufts)
        try:
            yield
        finally:
            bindings.llama_model_default_params = defaults


class LlamaCppLlm:
    def __init__(self, config: LlmConfig):
        self.config = config
        self.path = Path(config.model).expanduser() if config.model else default_llm_model()
        _check_gguf(self.path)
        from llama_cpp import Llama

        self.system_info = llama_system_info()
        self.extra_buffers = use_extra_buffers(config.extra_buffers, self.system_info)
        self.threads = config.n_threads or generation_threads()
        try:
            with _model_params(use_extra_bufts=self.extra_buffers):
                self._llama = Llama(
                    model_path=str(self.path),
                    n_ctx=config.n_ctx,
                    n_threads=self.threads,
                    seed=config.seed,
                    verbose=False,
                )
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"LLM file {self.path} cannot be loaded ({error}); "
                             "set llm.model to a GGUF file") from None
        self.name = self.path.stem
        self.identity = f"{self.path.name}:{self.path.stat().st_size}"
        self.context_tokens = self._llama.n_ctx()
        self.prompt_states = SystemPromptStates(self._llama)
        self._busy = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, messages: list[ChatMessage], cancel: threading.Event | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        # One generation at a time on the one llama.cpp context: two threads decoding in it at
        # once abort the process (GGML_ASSERT). A scheduler never starts two, but two schedulers
        # sharing this engine could; the second waits for the first to let go.
        if not self._busy.acquire(timeout=GENERATION_WAIT_S):
            raise BusyError(f"the language model was busy for {GENERATION_WAIT_S:.0f} s")
        try:
            chunks = self._stream_chunks(messages, max_tokens or self.config.max_tokens)
            try:
                for piece in chunks:
                    if cancel is not None and cancel.is_set():
                        break
                    yield piece
            except ValueError as error:  # llama-cpp-python: "Requested tokens (N) exceed context
                if "context window" in str(error):  # window"
                    raise InputError(f"the conversation is too long for the model ({error})") from None
                raise
            finally:
                chunks.close()
        finally:
            self._busy.release()

    def _stream_chunks(self, messages: list[ChatMessage], max_tokens: int
                       ) -> Generator[str, None, None]:
        if messages and messages[0].role == "system":
            self.prompt_states.prepare(messages[0].content)
        probabilities = TokenProbabilities(self._llama.detokenize)
        chunks = self._llama.create_chat_completion(
            messages=[{"role": m.role, "content": m.content} for m in messages],
            stream=True,
            max_tokens=max_tokens,
            temperature=self.config.temperature,
            top_p=self.config.top_p,
            repeat_penalty=self.config.repeat_penalty,
            stop=list(self.config.stop) or None,
            seed=self.config.seed,  # each answer on its own: the same question, the same answer
            logits_processor=[probabilities],
        )
        try:
            for chunk in chunks:
                delta = chunk["choices"][0].get("delta", {})  # type: ignore[index]
                piece = delta.get("content")
                if piece:
                    yield Piece.of(piece, probabilities.take(piece))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()


class SystemPromptStates:
    """The KV state of each recent system prompt, saved once and restored when another prompt ran.

    The prefix is the tokens two chats with this system prompt and different questions share
    (the system turn and the start of the user's), found with the model's own chat template.
    Each state is ~1.2 MB of KV (and one row of logits) for the default prompt and SmolLM2.
    """

    KEEP = 2  # the daemon's prompt and one other (a Wyoming client's, a test's)

    def __init__(self, llama: Any):
        self._llama = llama
        self._states: OrderedDict[str, tuple[list[int], Any]] = OrderedDict()
        self._formatter = _chat_formatter(llama)
        self.saved = 0
        self.restored = 0

    def prepare(self, system_prompt: str) -> None:
        """Before a chat with ``system_prompt``: make sure its prefix is in the KV cache cheaply."""
        if self._formatter is None:
            return
        entry = self._states.get(system_prompt)
        if entry is None:
            self._save(system_prompt)
            return
        self._states.move_to_end(system_prompt)
        prefix, state = entry
        current = self._llama.input_ids[: self._llama.n_tokens].tolist()
        if current[: len(prefix)] != prefix:
            self._llama.load_state(state)
            self.restored += 1

    def _save(self, system_prompt: str) -> None:
        prefix = self._prefix(system_prompt)
        if not prefix:
            return
        self._llama.reset()
        self._llama.eval(prefix)
        state = self._llama.save_state()
        # Without logits_all llama-cpp-python never reads its score rows (sampling is in
        # llama.cpp): one row, broadcast on load, instead of a copy of every prefix token's.
        state.scores = state.scores[-1:].copy()
        self._states[system_prompt] = (prefix, state)
        self.saved += 1
        while len(self._states) > self.KEEP:
            self._states.popitem(last=False)

    def _prefix(self, system_prompt: str) -> list[int]:
        def tokens(question: str) -> list[int]:
            chat = [{"role": "system", "content": system_prompt}, {"role": "user", "content": question}]
            prompt = self._formatter(messages=chat).prompt  # type: ignore[misc]
            return list(self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

        return system_prefix(tokens)


def system_prefix(tokens: Callable[[str], list[int]]) -> list[int]:
    """The tokens every chat with one system prompt starts with: what two chats with different
    questions share (``tokens(question)``: that chat's prompt, tokenized)."""
    first, second = tokens("a"), tokens("zebra crossing")
    shared = 0
    while shared < min(len(first), len(second)) and first[shared] == second[shared]:
        shared += 1
    return first[:shared]


def _chat_formatter(llama: Any) -> Any:
    """The GGUF's chat template as a formatter, or None (the model has none: no saved states)."""
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def token_text(token: int) -> str:
        return llama.detokenize([token], special=True).decode("utf-8", errors="ignore")

    return Jinja2ChatFormatter(template, eos_token=token_text(llama.token_eos()),
                               bos_token=token_text(llama.token_bos()))


def _check_gguf(path: Path) -> None:
    if not path.is_file():
        raise ModelError(f"LLM file {path} does not exist; set llm.model to a GGUF file")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != GGUF_MAGIC:
        raise ModelError(f"LLM file {path} is not a GGUF model (bad header); "
                         "set llm.model to a .gguf file")
