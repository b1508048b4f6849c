"""Language model: a small streaming interface and its llama.cpp (GGUF) implementation.

The chat template comes from the GGUF metadata (llama-cpp-python reads
``tokenizer.chat_template``), so LFM2-1.2B and SmolLM2 work the same way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from satellite.config.paths import default_llm_model
from satellite.config.schema import LlmConfig
from satellite.errors import InputError, ModelError

_LOGGER = logging.getLogger(__name__)
GGUF_MAGIC = b"GGUF"


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
        """Yield pieces of the assistant's reply as they are generated."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` takes in the prompt."""
        ...


class LlamaCppLlm:
    def __init__(self, config: LlmConfig):
        self.config = config
        self.path = Path(config.model).expanduser() if config.model else default_llm_model()
        _check_gguf(self.path)
        from llama_cpp import Llama

        try:
            self._llama = Llama(
                model_path=str(self.path),
                n_ctx=config.n_ctx,
                n_threads=config.n_threads or None,
                seed=config.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"LLM file {self.path} cannot be loaded ({error}); "
                             "set llm.model to a GGUF file") from None
        self.name = self.path.stem
        self.identity = f"{self.path.name}:{self.path.stat().st_size}"
        self.context_tokens = self._llama.n_ctx()

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, messages: list[ChatMessage], cancel: threading.Event | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        chunks = self._stream_chunks(messages, max_tokens or self.config.max_tokens)
        try:
            for piece in chunks:
                if cancel is not None and cancel.is_set():
                    break
                yield piece
        except ValueError as error:  # llama-cpp-python: "Requested tokens (N) exceed context window"
            if "context window" in str(error):
                raise InputError(f"the conversation is too long for the model ({error})") from None
            raise
        finally:
            chunks.close()

    def _stream_chunks(self, messages: list[ChatMessage], max_tokens: int
                       ) -> Generator[str, None, None]:
        chunks = self._llama.create_chat_completion(
            messages=[{"role": m.role, "content": m.content} for m in messages],
            stream=True,
            max_tokens=max_tokens,
            temperature=self.config.temperature,
            top_p=self.config.top_p,
            repeat_penalty=self.config.repeat_penalty,
            stop=list(self.config.stop) or None,
            seed=self.config.seed,  # each answer on its own: the same question, the same answer
        )
        try:
            for chunk in chunks:
                delta = chunk["choices"][0].get("delta", {})  # type: ignore[index]
                piece = delta.get("content")
                if piece:
                    yield piece
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()


def _check_gguf(path: Path) -> None:
    if not path.is_file():
        raise ModelError(f"LLM file {path} does not exist; set llm.model to a GGUF file")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != GGUF_MAGIC:
        raise ModelError(f"LLM file {path} is not a GGUF model (bad header); "
                         "set llm.model to a .gguf file")
