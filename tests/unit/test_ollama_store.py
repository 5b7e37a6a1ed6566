"""resolve_ollama_model against fake Ollama stores laid out exactly like the real one."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from os1.errors import ModelFileError, ModelNotFound
from os1.llm import ollama
from os1.llm.ollama import list_ollama_models, parse_ollama_name, resolve_ollama_model

MODEL = "application/vnd.ollama.image.model"
TEMPLATE = "application/vnd.ollama.image.template"


def write_blob(store: Path, content: bytes) -> dict[str, Any]:
    """Stores ``content`` the way Ollama does and returns its manifest layer fields."""
    digest = hashlib.sha256(content).hexdigest()
    blobs = store / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    (blobs / f"sha256-{digest}").write_bytes(content)
    return {"digest": f"sha256:{digest}", "size": len(content)}


def add_model(store: Path, manifest: str, weights: bytes | None = None) -> Path:
    """A pulled model: a template layer first (to prove the right layer is picked), then the
    weights; returns the weights blob path. ``manifest`` is relative to ``manifests/``."""
    weights = weights if weights is not None else b"GGUF" + manifest.encode()
    layers = [
        {"mediaType": TEMPLATE, **write_blob(store, b"{{ .Prompt }}")},
        {"mediaType": MODEL, **write_blob(store, weights)},
    ]
    write_manifest(store, manifest, {"schemaVersion": 2, "layers": layers})
    return store / "blobs" / f"sha256-{hashlib.sha256(weights).hexdigest()}"


def write_manifest(store: Path, manifest: str, data: Any) -> Path:
    path = store / "manifests" / manifest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture(autouse=True)
def isolated_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test may see the machine's real Ollama stores; returns the fake home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("OLLAMA_MODELS", raising=False)
    monkeypatch.setattr(ollama, "SYSTEM_STORE", tmp_path / "system" / "models")
    return home


@pytest.mark.parametrize(
    ("name", "manifest"),
    [
        ("llama3.2", "registry.ollama.ai/library/llama3.2/latest"),
        ("llama3.2:3b", "registry.ollama.ai/library/llama3.2/3b"),
        ("user/model:tag", "registry.ollama.ai/user/model/tag"),
        ("user/model", "registry.ollama.ai/user/model/latest"),
        ("registry.example.com/ns/model:tag", "registry.example.com/ns/model/tag"),
        ("localhost:5000/ns/model:v1", "localhost:5000/ns/model/v1"),
        ("hf.co/bartowski/Qwen2.5-GGUF:Q4_K_M", "hf.co/bartowski/Qwen2.5-GGUF/Q4_K_M"),
        ("ollama:llama3.2:3b", "registry.ollama.ai/library/llama3.2/3b"),
        ("ollama:user/model", "registry.ollama.ai/user/model/latest"),
    ],
)
def test_resolves_every_name_form(store: Path, name: str, manifest: str) -> None:
    expected = add_model(store, manifest)
    add_model(store, "registry.ollama.ai/library/decoy/latest")
    found = resolve_ollama_model(name, store)
    assert found == expected
    assert found.read_bytes() == b"GGUF" + manifest.encode()


def test_parse_fills_in_the_defaults() -> None:
    parsed = parse_ollama_name("ollama:qwen2.5")
    assert (parsed.registry, parsed.namespace, parsed.model, parsed.tag) == (
        "registry.ollama.ai",
        "library",
        "qwen2.5",
        "latest",
    )
    assert str(parsed) == "qwen2.5:latest"
    assert str(parse_ollama_name("me/bot:v2")) == "me/bot:v2"
    assert str(parse_ollama_name("r.io/me/bot")) == "r.io/me/bot:latest"


@pytest.mark.parametrize(
    "name", ["", "a/b/c/d", "../../etc/passwd", "model:../x", "ns//m", "m:a:b"]
)
def test_rejects_malformed_names(store: Path, name: str) -> None:
    with pytest.raises(ModelNotFound, match="not an Ollama model name"):
        resolve_ollama_model(name, store)


def test_uses_ollama_models_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_store = tmp_path / "from-env"
    expected = add_model(env_store, "registry.ollama.ai/library/phi4/latest")
    monkeypatch.setenv("OLLAMA_MODELS", str(env_store))
    assert resolve_ollama_model("phi4") == expected


def test_explicit_dir_beats_env_var(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_model(tmp_path / "from-env", "registry.ollama.ai/library/phi4/latest", b"GGUF env")
    expected = add_model(store, "registry.ollama.ai/library/phi4/latest", b"GGUF explicit")
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "from-env"))
    assert resolve_ollama_model("phi4", store) == expected


def test_defaults_to_the_user_store(isolated_defaults: Path) -> None:
    expected = add_model(isolated_defaults / ".ollama" / "models", "registry.ollama.ai/a/b/c")
    assert resolve_ollama_model("a/b:c") == expected


def test_falls_back_to_the_service_store(isolated_defaults: Path) -> None:
    add_model(isolated_defaults / ".ollama" / "models", "registry.ollama.ai/library/other/latest")
    expected = add_model(ollama.SYSTEM_STORE, "registry.ollama.ai/library/llama3.2/latest")
    assert resolve_ollama_model("llama3.2") == expected
    assert list_ollama_models() == ["llama3.2:latest", "other:latest"]


def test_not_found_names_the_manifest_and_lists_what_exists(store: Path) -> None:
    add_model(store, "registry.ollama.ai/library/qwen2.5/1.5b")
    add_model(store, "registry.ollama.ai/me/bot/latest")
    add_model(store, "example.com/ns/thing/v1")
    with pytest.raises(ModelNotFound) as caught:
        resolve_ollama_model("llama3.2:3b", store)
    wanted = store / "manifests" / "registry.ollama.ai" / "library" / "llama3.2" / "3b"
    assert str(wanted) in str(caught.value)
    assert "llama3.2:3b" in str(caught.value)
    assert caught.value.hint == (
        "The store has: example.com/ns/thing:v1, me/bot:latest, qwen2.5:1.5b."
    )


def test_not_found_lists_at_most_ten(store: Path) -> None:
    for i in range(12):
        add_model(store, f"registry.ollama.ai/library/m{i:02d}/latest")
    with pytest.raises(ModelNotFound) as caught:
        resolve_ollama_model("absent", store)
    assert "m09:latest" in caught.value.hint
    assert "m10:latest" not in caught.value.hint
    assert caught.value.hint.endswith("and 2 more.")


def test_not_found_in_empty_store_suggests_pulling(store: Path) -> None:
    (store / "manifests").mkdir(parents=True)
    with pytest.raises(ModelNotFound) as caught:
        resolve_ollama_model("llama3.2", store)
    assert "ollama pull llama3.2:latest" in caught.value.hint


def test_no_store_at_all_mentions_ollama_models(isolated_defaults: Path) -> None:
    with pytest.raises(ModelNotFound) as caught:
        resolve_ollama_model("llama3.2")
    message = str(caught.value)
    assert str(isolated_defaults / ".ollama" / "models" / "manifests") in message
    assert str(ollama.SYSTEM_STORE / "manifests") in message
    assert "OLLAMA_MODELS" in caught.value.hint


def test_manifest_that_is_not_json_is_a_file_error(store: Path) -> None:
    write_manifest(store, "registry.ollama.ai/library/broken/latest", "{truncated")
    with pytest.raises(ModelFileError, match="not readable JSON"):
        resolve_ollama_model("broken", store)


@pytest.mark.parametrize(
    "data",
    [
        {"schemaVersion": 2, "layers": []},
        {"schemaVersion": 2},
        ["not", "an", "object"],
        {"layers": [{"mediaType": "application/vnd.ollama.image.adapter", "digest": "x"}]},
    ],
)
def test_manifest_without_model_layer_is_a_file_error(store: Path, data: Any) -> None:
    write_manifest(store, "registry.ollama.ai/library/weightless/latest", data)
    with pytest.raises(ModelFileError, match="no model weights layer"):
        resolve_ollama_model("weightless", store)


def test_bad_digest_is_a_file_error(store: Path) -> None:
    layers = [{"mediaType": MODEL, "digest": "sha256:../../secret"}]
    write_manifest(store, "registry.ollama.ai/library/odd/latest", {"layers": layers})
    with pytest.raises(ModelFileError, match="bad digest"):
        resolve_ollama_model("odd", store)


def test_missing_blob_is_a_file_error(store: Path) -> None:
    blob = add_model(store, "registry.ollama.ai/library/gone/latest")
    blob.unlink()
    with pytest.raises(ModelFileError) as caught:
        resolve_ollama_model("gone", store)
    assert str(blob) in str(caught.value)
    assert "ollama pull gone:latest" in caught.value.hint


def test_partial_blob_is_a_file_error(store: Path) -> None:
    blob = add_model(store, "registry.ollama.ai/library/half/latest", b"GGUF" + b"\0" * 100)
    blob.write_bytes(b"GGUF" + b"\0" * 10)
    with pytest.raises(ModelFileError, match=r"incomplete: .* has 14 bytes, the manifest says 104"):
        resolve_ollama_model("half", store)


def test_non_gguf_blob_is_a_file_error(store: Path) -> None:
    add_model(store, "registry.ollama.ai/library/safetensors/latest", b"\x08\x00\x00\x00{}")
    with pytest.raises(ModelFileError, match="not a GGUF file"):
        resolve_ollama_model("safetensors", store)


def test_lists_models_in_short_form(store: Path) -> None:
    add_model(store, "registry.ollama.ai/library/qwen2.5/latest")
    add_model(store, "registry.ollama.ai/library/qwen2.5/0.5b")
    add_model(store, "registry.ollama.ai/me/bot/v1")
    add_model(store, "hf.co/org/repo/Q4_K_M")
    assert list_ollama_models(store) == [
        "hf.co/org/repo:Q4_K_M",
        "me/bot:v1",
        "qwen2.5:0.5b",
        "qwen2.5:latest",
    ]


def test_listing_a_missing_store_is_empty(tmp_path: Path) -> None:
    assert list_ollama_models(tmp_path / "nowhere") == []
