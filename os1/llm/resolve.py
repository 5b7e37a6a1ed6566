"""From a ``--model`` spec to a running model.

    bundled (default)        the GGUF shipped in the os1[bundled] packages
    http(s)://host[:port]    any OpenAI-compatible server (Ollama, llama.cpp, vLLM, LM Studio)
    path/to/model.gguf       any local GGUF file
    llama3.2[:tag]           a model in the local Ollama store, run here by llama.cpp
    fake[:replies.json]      a scripted model (echoes, or plays a JSON list of replies), for
                             trying the plumbing and for tests of the command line
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from os1.config import Settings
from os1.llm.base import Model
from os1.llm.bundled import CHAT_MODEL, ProgressFn, ensure_assembled
from os1.llm.openai_http import shown_url

OnStart = Callable[[str, int], ProgressFn]


def describe_spec(spec: str) -> str:
    spec = spec.strip()
    kind = _kind(spec)
    return {"bundled": "the bundled model", "fake": "the fake model",
            "http": f"the server at {shown_url(spec)}", "gguf": f"the model file {spec}",
            "ollama": f"the Ollama model {spec}"}[kind]


def open_model(settings: Settings, on_start: OnStart | None = None) -> Model:
    spec = settings.model.strip()
    kind = _kind(spec)
    if kind == "fake":
        from os1.llm.fake import FakeModel

        return FakeModel.from_spec(spec, settings.context_size)
    if kind == "http":
        from os1.llm.openai_http import OpenAIChatModel

        return OpenAIChatModel(spec, settings.endpoint_model, settings.api_key,
                               settings.request_timeout, settings.context_size)
    if kind == "bundled":
        path = ensure_assembled(CHAT_MODEL, settings.cache_dir, on_start)
    elif kind == "gguf":
        path = Path(spec).expanduser()
    else:
        from os1.llm.ollama import resolve_ollama_model

        path = resolve_ollama_model(spec)
    from os1.llm.llama import LlamaModel

    return LlamaModel(path, settings.context_size, settings.threads)


def _kind(spec: str) -> str:
    if spec in ("", "bundled"):
        return "bundled"
    if spec == "fake" or spec.startswith("fake:"):
        return "fake"
    if spec.startswith(("http://", "https://")):
        return "http"
    path = Path(spec).expanduser()
    if spec.endswith(".gguf") or spec.startswith(("/", "./", "../", "~")) or path.is_file():
        return "gguf"
    return "ollama"
