"""The embedded backend: llama.cpp through llama-cpp-python, for any local GGUF file.

llama-cpp-python keeps the evaluated tokens of the last prompt and, on the next call,
evaluates only what follows the longest common prefix; the companion keeps its prompt's
prefix stable so that this reuse covers the system prompt and the conversation so far.
One lock serialises calls, because a llama context is not thread-safe and ``prefill``
runs in a background thread while the user types.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from os1.errors import ModelFileError
from os1.llm import kvcache
from os1.llm.base import GenerateOptions, Message
from os1.llm.defuse import Defuser

GGUF_MAGIC = b"GGUF"


def check_gguf(path: Path) -> None:
    """Fail with a precise message before llama.cpp gets a file it would choke on."""
    if not path.exists():
        raise ModelFileError(f"There is no model file at {path}.",
                             "Check the path given with --model.")
    if not path.is_file():
        raise ModelFileError(f"{path} is not a file.", "Give the path of a .gguf file.")
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            f"{path} is not a GGUF model file (it starts with {magic!r}, not b'GGUF').",
            "Download a .gguf model, or run ./start to use the bundled one.",
        )


def control_tokens(llm: Any) -> list[str]:
    """The texts of the vocabulary's control and user-defined tokens (23 for Qwen2.5)."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    marked = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED
    return [llm.detokenize([token], special=True).decode("utf-8", "replace")
            for token in range(llm.n_vocab())
            if llama_cpp.llama_vocab_get_attr(vocab, token) & marked]


class LlamaModel:
    def __init__(self, path: Path, context_size: int = 4096, threads: int = 0) -> None:
        check_gguf(path)
        from llama_cpp import Llama

        try:
            self._llm: Any = Llama(
                model_path=str(path),
                n_ctx=context_size,
                n_threads=threads or max(1, os.cpu_count() or 1),
                n_batch=512,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(
                f"llama.cpp could not load {path}: {exc}. The file may be truncated or corrupt.",
                "Re-download the model, or run ./start to rebuild the bundled one.",
            ) from exc
        self._path = path
        self._defuser = Defuser.of(control_tokens(self._llm))
        self._lock = threading.RLock()
        self._bias_cache: dict[tuple[tuple[str, float], ...], dict[int, float]] = {}

    @property
    def name(self) -> str:
        return self._path.name

    @property
    def path(self) -> Path:
        return self._path

    @property
    def context_size(self) -> int:
        return int(self._llm.n_ctx())

    @property
    def llama(self) -> Any:
        """The underlying ``llama_cpp.Llama`` (benchmarks compare against it directly)."""
        return self._llm

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions) -> Iterator[str]:
        kwargs = self._completion_kwargs(options)
        return self._stream([{"role": m.role, "content": m.content}
                             for m in self._defuser.messages(messages)], kwargs)

    def prompt_tokens(self, text: str) -> list[int]:
        """``text`` as it is tokenised inside her prompt (special tokens allowed, defused)."""
        return list(self._llm.tokenize(self._defuser.text(text).encode("utf-8"),
                                       add_bos=False, special=True))

    def prefill(self, messages: Sequence[Message]) -> None:
        """Evaluate a prompt now so that the next reply that starts with it starts fast."""
        for _ in self.stream_chat(messages, GenerateOptions(max_tokens=1, temperature=0.0)):
            pass

    def _stream(self, messages: list[dict[str, str]], kwargs: dict[str, Any]) -> Iterator[str]:
        with self._lock:
            chunks = self._llm.create_chat_completion(messages=messages, stream=True, **kwargs)
            try:
                for chunk in chunks:
                    piece = chunk["choices"][0]["delta"].get("content")
                    if piece:
                        yield piece
            finally:
                chunks.close()

    def _completion_kwargs(self, options: GenerateOptions) -> dict[str, Any]:
        from llama_cpp.llama_grammar import LlamaGrammar

        kwargs: dict[str, Any] = {
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "top_p": options.top_p,
            "min_p": options.min_p,
            "repeat_penalty": options.repeat_penalty,
            "presence_penalty": options.presence_penalty,
            "frequency_penalty": options.frequency_penalty,
            "stop": list(options.stop) or None,
        }
        if options.seed is not None:
            kwargs["seed"] = options.seed
        if options.json_schema is not None:
            kwargs["grammar"] = LlamaGrammar.from_json_schema(
                json.dumps(options.json_schema), verbose=False)
        elif options.grammar is not None:
            kwargs["grammar"] = LlamaGrammar.from_string(options.grammar, verbose=False)
        if options.logit_bias:
            kwargs["logit_bias"] = self.token_bias(options.logit_bias)
        return kwargs

    def token_bias(self, bias: Mapping[str, float]) -> dict[int, float]:
        """Map text pieces to token ids. Pieces that are not exactly one token are
        skipped: biasing the first token of a phrase would also hit ordinary words."""
        key = tuple(sorted(bias.items()))
        if key not in self._bias_cache:
            ids: dict[int, float] = {}
            for piece, value in bias.items():
                tokens = self._llm.tokenize(piece.encode("utf-8"), add_bos=False, special=False)
                if len(tokens) == 1:
                    ids[int(tokens[0])] = value
            self._bias_cache[key] = ids
        return self._bias_cache[key]

    def save_state(self, path: Path) -> int:
        """Keep what has been evaluated for the next process (see ``kvcache``)."""
        with self._lock:
            return kvcache.save(self._llm, self._identity(), path)

    def load_state(self, path: Path) -> int:
        with self._lock:
            return kvcache.load(self._llm, self._identity(), path)

    def _identity(self) -> dict[str, Any]:
        return kvcache.identity(self._path, self.context_size)

    def close(self) -> None:
        with self._lock:
            self._llm.close()
