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


def test_a_persons_saved_state_never_holds_anothers_words(bundled_model_path: Path,
                                                          tmp_path: Path) -> None:
    """Two people, one persona: Amy tells her a secret; a turn of Theo's that never used
    the model (the mail desk answered) must not save Amy's state as his, and nothing
    loaded or evaluated for Theo holds her words (see llm/kvcache.py)."""
    from os1.server.states import ModelStates

    model = LlamaModel(bundled_model_path, context_size=2048)
    states = ModelStates(tmp_path / "states")
    persona = Message("system", "You are Wren, a warm companion. " * 10)

    def evaluated() -> str:
        llama = model.llama
        return bytes(llama.detokenize(llama.input_ids[:llama.n_tokens].tolist())).decode(
            "utf-8", "replace")

    try:
        states.switch_to(model, "account:1")
        model.prefill([persona, Message("user", "My PIN is 4921; my sister is Marguerite.")])
        assert "Marguerite" in evaluated()
        states.switch_to(model, "account:2")  # Theo's turn, answered without the model
        states.switch_to(model, "account:1")
        states.switch_to(model, "account:2")
        assert not (tmp_path / "states" / "account-2.kv").exists()
        model.prefill([persona, Message("user", "Hello, I'm Theo.")])
        assert "Theo" in evaluated() and "Marguerite" not in evaluated()
        assert "4921" not in evaluated()
        states.switch_to(model, "account:1")
        assert "Marguerite" in evaluated()  # hers, restored
        states.switch_to(model, "account:2")
        assert states.restored == 3
        assert "Theo" in evaluated() and "Marguerite" not in evaluated()
    finally:
        model.close()
