"""Her evaluated state survives a restart: a new model instance picks up exactly where the
last one stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from os1.llm.base import GenerateOptions, Message
from os1.llm.llama import LlamaModel

pytestmark = pytest.mark.integration

MESSAGES = [Message("system", "You are Wren, a warm companion. " * 20),
            Message("user", "Say one word about the sea.")]
GREEDY = GenerateOptions(max_tokens=12, temperature=0.0)


def test_saved_state_restores_in_a_new_model(bundled_model_path: Path, tmp_path: Path) -> None:
    first = LlamaModel(bundled_model_path, context_size=2048)
    expected = "".join(first.stream_chat(MESSAGES, GREEDY))
    saved = first.save_state(tmp_path / "s.kv")
    evaluated = first.llama.input_ids[:first.llama.n_tokens].tolist()
    first.close()
    assert saved == len(evaluated) > 100

    second = LlamaModel(bundled_model_path, context_size=2048)
    assert second.load_state(tmp_path / "s.kv") == saved
    assert second.llama.input_ids[:second.llama.n_tokens].tolist() == evaluated
    assert "".join(second.stream_chat(MESSAGES, GREEDY)) == expected
    second.close()


def test_state_from_another_context_size_is_not_loaded(bundled_model_path: Path,
                                                       tmp_path: Path) -> None:
    first = LlamaModel(bundled_model_path, context_size=2048)
    "".join(first.stream_chat(MESSAGES, GREEDY))
    first.save_state(tmp_path / "s.kv")
    first.close()
    other = LlamaModel(bundled_model_path, context_size=1024)
    assert other.load_state(tmp_path / "s.kv") == 0
    assert other.llama.n_tokens == 0
    assert not (tmp_path / "s.kv").exists()
    other.close()
