"""Several generations at once in one llama.cpp context: parallel sequences, continuous batching.

The engine box of a home serves every room's language model. One generation at a time
makes the fourth room wait for three whole answers before its first word; here every
generation has its own sequence in one context (``llm.parallel`` of them), and each decode
step takes the next token of every running sequence together, plus the prompt of any that
just arrived (continuous batching): a room's request starts at the next step, never after
another room's long answer. On a CPU the step costs more with more sequences, but less
than one step each (docs/benchmarks.md).

The system prompt's prefix is decoded once into a sequence of its own and copied into each
new sequence (llama.cpp copies the cells), so a request decodes only its question. Sampling
is llama.cpp's own sampler chain per sequence, the chain llama-cpp-python builds (repeat
penalty over the generated tokens, then greedy, or top-k/top-p/min-p/temperature from the
seed): the same question gets the answer the one-at-a-time engine gives.

One thread owns the context; ``stream`` is called from the scheduler's threads and reads its
sequence's pieces from a queue.
"""

from __future__ import annotations

import codecs
import collections
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from satellite.engines.llm import (
    GENERATION_WAIT_S,
    ChatMessage,
    LlamaCppLlm,
    Piece,
    _chat_formatter,
    system_prefix,
)
from satellite.errors import BusyError, InputError, ModelError

_LOGGER = logging.getLogger(__name__)
REPEAT_LAST_N = 64  # llama-cpp-python's last_n_tokens_size
BATCH_TOKENS = 512  # tokens decoded in one step at most (prompts are cut into steps)
_END = object()


@dataclass
class _Sequence:
    prompt: list[int]  # tokens still to decode before the first sample
    max_tokens: int
    cancel: threading.Event | None
    system: str
    out: queue.Queue[Any] = field(default_factory=queue.Queue)
    seq_id: int = -1
    pos: int = 0
    generated: int = 0
    sampler: Any = None
    logits_at: int = -1  # its row in the last step's logits, or -1
    last: int = -1  # the token sampled last, decoded at the next step
    text: str = ""  # decoded, not yet handed out (a stop string may be starting)
    tokens: list[tuple[str, float]] = field(default_factory=list)
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("ignore"))
    done: bool = False

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()


class BatchedLlm:
    """``LanguageModel`` over ``engine``'s weights, generating for ``slots`` requests at once."""

    def __init__(self, engine: LlamaCppLlm, slots: int,
                 pause: Callable[[threading.Event], None] | None = None):
        """``pause``: called between steps; waits (bounded) while the voice computes."""
        import llama_cpp

        self._lib = llama_cpp
        self.engine = engine
        self.config = engine.config
        self.slots = slots
        self.pause = pause
        self.name = engine.name
        self.identity = engine.identity
        self.system_info = engine.system_info
        self.extra_buffers = engine.extra_buffers
        # every core: an engine box has no microphone to leave one to, and a batch has the work
        # for them (4 rooms at once on 2 cores: p95 first audio 2.3 s with 2 threads, 3.1 s with 1)
        self.threads = self.config.n_threads or os.cpu_count() or 1
        llama = engine._llama
        self._llama = llama
        self.context_tokens = self.config.n_ctx
        self._prefix_seq = slots  # the system prompt's prefix lives in its own sequence
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = self.config.n_ctx * (slots + 1)
        params.n_batch = params.n_ubatch = BATCH_TOKENS
        params.n_seq_max = slots + 1
        params.n_threads = params.n_threads_batch = self.threads
        params.kv_unified = False  # each sequence its own cells: its full context, no sharing
        self._ctx = llama_cpp.llama_init_from_model(llama._model.model, params)
        if not self._ctx:
            raise ModelError(f"llama.cpp could not make a context for {slots} parallel sequences "
                             f"of {self.config.n_ctx} tokens")
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._vocab = llama_cpp.llama_model_get_vocab(llama._model.model)
        self._n_vocab = llama_cpp.llama_vocab_n_tokens(self._vocab)
        self._batch = llama_cpp.llama_batch_init(BATCH_TOKENS, 0, slots + 1)
        self._formatter = _chat_formatter(llama)
        self._stops = [s for s in self.config.stop if s]
        self._prefixes: dict[str, list[int]] = {}  # system prompt -> its prefix tokens
        self._prefix: list[int] = []  # what the prefix sequence holds now
        self._waiting: collections.deque[_Sequence] = collections.deque()
        self._active: list[_Sequence] = []
        self._free = list(range(slots))
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="llm-batch", daemon=True)
        self.steps = 0
        self._thread.start()
        _LOGGER.info("llm: %d parallel sequences of %d tokens in one llama.cpp context, %d thread(s)",
                     slots, self.config.n_ctx, self.threads)

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)

    # -- the callers' side -----------------------------------------------------------------------

    def stream(self, messages: list[ChatMessage], cancel: threading.Event | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        prompt = self._prompt(messages)
        room = self.config.n_ctx - len(prompt)
        if room < 8:
            raise InputError(f"the conversation is too long for the model ({len(prompt)} tokens "
                             f"of {self.config.n_ctx})")
        system = messages[0].content if messages and messages[0].role == "system" else ""
        sequence = _Sequence(prompt, min(max_tokens or self.config.max_tokens, room), cancel, system)
        with self._wake:
            if self._closed:
                raise BusyError("the language model is shutting down")
            self._waiting.append(sequence)
            self._wake.notify()
        try:
            while True:
                try:
                    item = sequence.out.get(timeout=GENERATION_WAIT_S)
                except queue.Empty:
                    raise BusyError(f"the language model gave nothing for {GENERATION_WAIT_S:.0f} s"
                                    ) from None
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if cancel is None:
                sequence.cancel = cancel = threading.Event()
            cancel.set()  # a consumer that stops early frees its sequence at the next step
            with self._wake:
                self._wake.notify()

    def _prompt(self, messages: list[ChatMessage]) -> list[int]:
        chat = [{"role": m.role, "content": m.content} for m in messages]
        if self._formatter is None:
            text = "".join(f"{m.role}: {m.content}\n" for m in messages) + "assistant: "
            return list(self._llama.tokenize(text.encode(), add_bos=True, special=True))
        result = self._formatter(messages=chat)
        return list(self._llama.tokenize(result.prompt.encode("utf-8"),
                                         add_bos=not result.added_special, special=True))

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=10.0)
        if self._thread.is_alive():
            _LOGGER.warning("the batched language model's thread did not stop")
            return
        lib = self._lib
        lib.llama_batch_free(self._batch)
        lib.llama_free(self._ctx)
        self._ctx = None

    # -- the context's thread ---------------------------------------------------------------------

    def _run(self) -> None:
        stop = threading.Event()
        while True:
            with self._wake:
                while not self._closed and not self._waiting and not self._active:
                    self._wake.wait()
                if self._closed:
                    break
                admitted = []
                while self._waiting and self._free:
                    sequence = self._waiting.popleft()
                    sequence.seq_id = self._free.pop(0)
                    admitted.append(sequence)
            try:
                for sequence in admitted:
                    self._admit(sequence)
                self._active = [s for s in self._active if not self._finish_if_cancelled(s)]
                if not self._active:
                    continue
                if self.pause is not None:
                    self.pause(stop)
                self._step()
            except Exception as error:  # a failed decode fails the sequences it held, not the box
                _LOGGER.exception("batched generation failed")
                for sequence in self._active:
                    self._finish(sequence, ModelError(f"the language model failed: {error}"))
                self._active = []
        for sequence in [*self._active, *self._waiting]:
            sequence.out.put(BusyError("the language model is shutting down"))
        self._active, self._waiting = [], collections.deque()

    def _admit(self, sequence: _Sequence) -> None:
        lib = self._lib
        lib.llama_memory_seq_rm(self._memory, sequence.seq_id, -1, -1)
        prefix = self._prefix_for(sequence.system)
        if prefix and sequence.prompt[:len(prefix)] == prefix and len(sequence.prompt) > len(prefix):
            if self._prefix != prefix:
                self._decode_prefix(prefix)
            lib.llama_memory_seq_cp(self._memory, self._prefix_seq, sequence.seq_id, -1, -1)
            sequence.pos = len(prefix)
            sequence.prompt = sequence.prompt[len(prefix):]
        sequence.sampler = self._sampler()
        self._active.append(sequence)

    def _prefix_for(self, system: str) -> list[int]:
        if not system or self._formatter is None:
            return []
        if system not in self._prefixes:
            if len(self._prefixes) >= 4:
                self._prefixes.pop(next(iter(self._prefixes)))
            self._prefixes[system] = system_prefix(
                lambda question: self._prompt([ChatMessage("system", system),
                                               ChatMessage("user", question)]))
        return self._prefixes[system]

    def _decode_prefix(self, prefix: list[int]) -> None:
        lib = self._lib
        lib.llama_memory_seq_rm(self._memory, self._prefix_seq, -1, -1)
        for start in range(0, len(prefix), BATCH_TOKENS):
            self._batch.n_tokens = 0
            for offset, token in enumerate(prefix[start:start + BATCH_TOKENS]):
                self._add(token, start + offset, self._prefix_seq, False)
            self._decode()
        self._prefix = prefix

    def _sampler(self) -> Any:
        lib, config = self._lib, self.config
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_penalties(
            self._n_vocab, REPEAT_LAST_N, config.repeat_penalty, 0.0, 0.0))
        if config.temperature == 0.0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
        else:
            for sampler in (lib.llama_sampler_init_top_k(40), lib.llama_sampler_init_typical(1.0, 1),
                            lib.llama_sampler_init_top_p(config.top_p, 1),
                            lib.llama_sampler_init_min_p(0.05, 1),
                            lib.llama_sampler_init_temp(config.temperature),
                            lib.llama_sampler_init_dist(config.seed)):
                lib.llama_sampler_chain_add(chain, sampler)
        return chain

    def _add(self, token: int, pos: int, seq_id: int, logits: bool) -> int:
        batch = self._batch
        n = batch.n_tokens
        batch.token[n], batch.pos[n], batch.n_seq_id[n] = token, pos, 1
        batch.seq_id[n][0] = seq_id
        batch.logits[n] = logits
        batch.n_tokens = n + 1
        return n

    def _decode(self) -> None:
        code = self._lib.llama_decode(self._ctx, self._batch)
        if code != 0:
            raise RuntimeError(f"llama_decode returned {code}")
        self.steps += 1

    def _step(self) -> None:
        """One decode: every generating sequence's last token first, then prompts in what is left."""
        self._batch.n_tokens = 0
        budget = BATCH_TOKENS
        for sequence in self._active:
            sequence.logits_at = -1
            if not sequence.prompt:
                sequence.logits_at = self._add(sequence.last, sequence.pos, sequence.seq_id, True)
                sequence.pos += 1
                budget -= 1
        for sequence in self._active:
            if not sequence.prompt or budget <= 0:
                continue
            chunk, sequence.prompt = sequence.prompt[:budget], sequence.prompt[budget:]
            for offset, token in enumerate(chunk):
                at = self._add(token, sequence.pos + offset, sequence.seq_id,
                               not sequence.prompt and offset == len(chunk) - 1)
            sequence.pos += len(chunk)
            budget -= len(chunk)
            if not sequence.prompt:
                sequence.logits_at = at
        self._decode()
        for sequence in self._active:
            if sequence.logits_at >= 0:
                self._sample(sequence)
        self._active = [s for s in self._active if not s.done]  # finished ones leave here

    def _sample(self, sequence: _Sequence) -> None:
        lib = self._lib
        logits = np.ctypeslib.as_array(lib.llama_get_logits_ith(self._ctx, sequence.logits_at),
                                       shape=(self._n_vocab,))
        token = int(lib.llama_sampler_sample(sequence.sampler, self._ctx, sequence.logits_at))
        highest = float(logits.max())
        probability = float(np.exp(logits[token] - highest) / np.exp(logits - highest).sum())
        if lib.llama_vocab_is_eog(self._vocab, token):
            self._finish(sequence)
            return
        sequence.generated += 1
        sequence.last = token
        piece = self._llama.detokenize([token], special=False)
        text = sequence.decoder.decode(piece)
        sequence.tokens.append((piece.decode("utf-8", errors="ignore"), probability))
        sequence.text += text
        self._hand_out(sequence)
        if not sequence.done and sequence.generated >= sequence.max_tokens:
            self._finish(sequence)

    def _hand_out(self, sequence: _Sequence) -> None:
        """The decoded text, less a stop string (the reply ends there) or what may start one."""
        text = sequence.text
        for stop in self._stops:
            at = text.find(stop)
            if at >= 0:
                sequence.text = text[:at]
                self._finish(sequence)
                return
        keep = max((n for stop in self._stops for n in range(1, len(stop))
                    if text.endswith(stop[:n])), default=0)
        ready, sequence.text = text[:len(text) - keep], text[len(text) - keep:]
        if ready:
            sequence.out.put(Piece.of(ready, tuple(sequence.tokens)))
            sequence.tokens = []

    def _finish_if_cancelled(self, sequence: _Sequence) -> bool:
        if sequence.cancelled:
            sequence.text = ""
            self._finish(sequence)
            return True
        return False

    def _finish(self, sequence: _Sequence, error: BaseException | None = None) -> None:
        if sequence.done:
            return
        sequence.done = True
        if error is None and sequence.text:
            sequence.out.put(Piece.of(sequence.text, tuple(sequence.tokens)))
        sequence.out.put(error if error is not None else _END)
        lib = self._lib
        lib.llama_memory_seq_rm(self._memory, sequence.seq_id, -1, -1)
        if sequence.sampler is not None:
            lib.llama_sampler_free(sequence.sampler)
            sequence.sampler = None
        with self._wake:
            self._free.append(sequence.seq_id)
