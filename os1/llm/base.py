"""The one protocol every model backend implements.

Why a protocol and not a base class: backends share no code, only a shape, and the
scripted fake must be usable anywhere the real model is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class GenerateOptions:
    """How to sample one reply.

    ``logit_bias`` maps *text pieces* (not token ids) to a bias, because token ids differ
    between models; each backend maps the pieces onto its own vocabulary where it can.
    ``json_schema`` and ``grammar`` (GBNF) constrain the output; give at most one.
    ``min_p`` and the three penalties are llama.cpp's samplers (an OpenAI-compatible server
    gets the presence and frequency penalties, and llama.cpp's server all four): the
    small model loops ("I'm still trying to get through it" five times) without them.
    """

    max_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 0.9
    min_p: float = 0.0
    repeat_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    stop: tuple[str, ...] = ()
    json_schema: Mapping[str, Any] | None = None
    grammar: str | None = None
    logit_bias: Mapping[str, float] = field(default_factory=dict)
    seed: int | None = None


@runtime_checkable
class Model(Protocol):
    """A chat model that streams its reply as text pieces.

    Closing the iterator returned by ``stream_chat`` must stop generation promptly
    (that is how an interrupted reply stops costing compute).
    """

    @property
    def name(self) -> str: ...

    @property
    def context_size(self) -> int:
        """Tokens the model can attend to: prompt and reply together."""
        ...

    def stream_chat(
        self, messages: Sequence[Message], options: GenerateOptions
    ) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's vocabulary (an estimate if it has none)."""
        ...

    def close(self) -> None: ...


def complete(model: Model, messages: Sequence[Message], options: GenerateOptions) -> str:
    """The whole reply at once, for callers that don't stream."""
    return "".join(model.stream_chat(messages, options))


class ForwardingModel:
    """A model that hands every call to ``model``: subclass it to change one behaviour
    (record prompts, give way to a reply) and keep the rest."""

    def __init__(self, model: Model) -> None:
        self.model = model

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def context_size(self) -> int:
        return self.model.context_size

    def count_tokens(self, text: str) -> int:
        return self.model.count_tokens(text)

    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions) -> Iterator[str]:
        return self.model.stream_chat(messages, options)

    def close(self) -> None:
        self.model.close()
