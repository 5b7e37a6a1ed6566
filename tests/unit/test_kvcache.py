"""The saved-state file is trusted only when it is whole and belongs to this model."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from os1.llm import kvcache

MODEL_ID = {"model": "m.gguf", "size": 123, "n_ctx": 4096}


def state_file(header: dict[str, object], state: bytes = b"\x01\x02") -> bytes:
    raw = json.dumps(header).encode()
    return kvcache.MAGIC + struct.pack("<I", len(raw)) + raw + state


def test_a_whole_file_for_this_model_parses() -> None:
    parsed = kvcache._parse(state_file({**MODEL_ID, "tokens": [1, 2, 3]}), MODEL_ID)
    assert parsed == ([1, 2, 3], b"\x01\x02")


def test_another_model_or_context_size_is_refused() -> None:
    for other in ({"model": "other.gguf"}, {"size": 124}, {"n_ctx": 8192}):
        data = state_file({**MODEL_ID, **other, "tokens": [1]})
        assert kvcache._parse(data, MODEL_ID) is None


def test_damaged_files_are_refused() -> None:
    good = state_file({**MODEL_ID, "tokens": [1, 2]})
    assert kvcache._parse(b"NOTOURS!" + good[8:], MODEL_ID) is None
    assert kvcache._parse(good[:10], MODEL_ID) is None
    assert kvcache._parse(state_file({**MODEL_ID, "tokens": [1]}, state=b""), MODEL_ID) is None
    assert kvcache._parse(state_file({**MODEL_ID, "tokens": []}), MODEL_ID) is None
    too_many = state_file({**MODEL_ID, "tokens": list(range(5000))})
    assert kvcache._parse(too_many, MODEL_ID) is None
    broken = kvcache.MAGIC + struct.pack("<I", 5) + b"{nope" + b"\x00"
    assert kvcache._parse(broken, MODEL_ID) is None


def test_load_removes_a_file_it_cannot_use(tmp_path: Path) -> None:
    path = tmp_path / "local.kv"
    path.write_bytes(b"garbage")
    assert kvcache.load(object(), MODEL_ID, path) == 0
    assert not path.exists()


def test_load_without_a_file_restores_nothing(tmp_path: Path) -> None:
    assert kvcache.load(object(), MODEL_ID, tmp_path / "missing.kv") == 0
