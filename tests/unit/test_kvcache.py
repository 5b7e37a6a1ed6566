"""The saved-state file is trusted only when it is whole and belongs to this model."""

from __future__ import annotations

import errno
import json
import random
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from os1.llm import kvcache
from os1.llm.llama import LlamaModel
from os1.server.states import ModelStates
from os1.storage.private_files import open_private

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


# -- one person's state never becomes another's ------------------------------------------

PERSONA = list(range(100, 160))  # her system prompt's opening, the same for everyone
SECRETS = {"account:1": [9001, 9002, 9003], "account:2": [9101, 9102],
           "account:3": [9201, 9202, 9203, 9204]}


class FakeLlama:
    """llama-cpp-python's ``Llama`` as kvcache and its prefix matching see it; its "KV
    state" is the evaluated tokens' bytes, so a secret in it can be looked for."""

    def __init__(self) -> None:
        self.input_ids = np.zeros(4096, dtype=np.intc)
        self.n_tokens = 0
        self._requires_eval = False
        self.kv = b""

    def n_ctx(self) -> int:
        return 4096

    def reset(self) -> None:
        self.n_tokens = 0

    def evaluate(self, prompt: list[int]) -> None:
        """What a reply does to the state: llama.cpp keeps the longest common prefix
        (identical tokens, so identical KV) and evaluates the rest of ``prompt``."""
        self.input_ids[:len(prompt)] = prompt
        self.n_tokens = len(prompt)
        self.kv = _packed(prompt)

    def evaluated(self) -> list[int]:
        return [int(t) for t in self.input_ids[:self.n_tokens]]


def _packed(tokens: list[int]) -> bytes:
    return struct.pack(f"<{len(tokens)}i", *tokens)


def holds(tokens: list[int] | bytes, secret: list[int]) -> bool:
    packed = tokens if isinstance(tokens, bytes) else _packed(tokens)
    return _packed(secret) in packed


@pytest.fixture
def llama(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FakeLlama, LlamaModel]:
    def set_state(llm: FakeLlama, state: bytes) -> bool:
        llm.kv = bytes(state)
        return True

    monkeypatch.setattr(kvcache, "_state_of", lambda llm: memoryview(llm.kv))
    monkeypatch.setattr(kvcache, "_set_state", set_state)
    weights = tmp_path / "m.gguf"
    weights.write_bytes(b"GGUF")
    fake = FakeLlama()
    model = LlamaModel.__new__(LlamaModel)  # the real save/load path, over the fake
    model._llm, model._path, model._lock = fake, weights, threading.RLock()
    return fake, model


def prompt_of(user: str, told_secret: bool) -> list[int]:
    name = int(user.split(":")[1])
    return PERSONA + [name] + (SECRETS[user] if told_secret else []) + [7]


def file_tokens(path: Path) -> list[int]:
    data = path.read_bytes()
    (length,) = struct.unpack("<I", data[8:12])
    return list(json.loads(data[12:12 + length])["tokens"])


def test_a_person_the_model_was_not_used_for_never_gets_the_last_ones_state(
        tmp_path: Path, llama: tuple[FakeLlama, LlamaModel]) -> None:
    """Amy tells her a secret; Theo's turn is answered without the model (the mail desk)
    or fails before it; the state the model still holds is Amy's, not Theo's to keep."""
    fake, model = llama
    states = ModelStates(tmp_path / "states")
    states.switch_to(model, "account:1")
    fake.evaluate(prompt_of("account:1", told_secret=True))
    states.switch_to(model, "account:2")  # Theo: no model call this turn
    states.switch_to(model, "account:1")
    fake.evaluate([*prompt_of("account:1", told_secret=True), 8])
    states.switch_to(model, "account:2")
    theos = tmp_path / "states" / "account-2.kv"
    assert not theos.exists(), "Amy's state was never Theo's to keep"
    assert states.restored == 1  # Amy's own, when she came back
    fake.evaluate(prompt_of("account:2", told_secret=False))  # his turn: a common prefix
    assert not holds(fake.evaluated(), SECRETS["account:1"])  # with hers, no more
    states.switch_to(model, "account:1")
    states.switch_to(model, "account:2")
    assert states.restored == 3 and theos.exists()
    assert fake.evaluated() == prompt_of("account:2", told_secret=False)
    assert not holds(theos.read_bytes(), SECRETS["account:1"])


def test_across_many_switches_no_file_or_loaded_state_holds_anothers_secret(
        tmp_path: Path, llama: tuple[FakeLlama, LlamaModel]) -> None:
    fake, model = llama
    states = ModelStates(tmp_path / "states", keep=2)
    chance = random.Random(25)
    for _ in range(300):
        user = chance.choice(sorted(SECRETS))
        restored = states.restored
        states.switch_to(model, user)
        others = [s for u, s in SECRETS.items() if u != user]
        if states.restored > restored:  # loaded this person's file
            assert not any(holds(fake.evaluated(), s) or holds(fake.kv, s) for s in others)
        if chance.random() < 0.5:  # a turn that used the model
            fake.evaluate(prompt_of(user, told_secret=chance.random() < 0.5))
        for path in (tmp_path / "states").glob("*.kv"):
            owner = path.stem.replace("-", ":", 1)
            assert not any(holds(file_tokens(path), s) or holds(path.read_bytes(), s)
                           for u, s in SECRETS.items() if u != owner), path.name
    assert states.restored > 20


def test_a_state_that_finds_the_disk_full_is_not_kept_and_the_old_one_stays(
        tmp_path: Path, llama: tuple[FakeLlama, LlamaModel],
        monkeypatch: pytest.MonkeyPatch) -> None:
    fake, model = llama
    path = tmp_path / "local.kv"
    fake.evaluate(prompt_of("account:1", told_secret=False))
    assert model.save_state(path) > 0
    before = path.read_bytes()

    @contextmanager
    def filling(partial: Path) -> Iterator[Any]:
        """The header fits; the state finds the disk full."""
        with open_private(partial) as f:
            f.write(b"header")
            assert partial.exists()

            class Full:
                def write(self, data: Any) -> int:
                    raise OSError(errno.ENOSPC, "No space left on device")

            yield Full()

    monkeypatch.setattr(kvcache, "open_private", filling)
    fake.evaluate([*prompt_of("account:1", told_secret=False), 8, 9])
    assert model.save_state(path) == 0
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".partial"] == []
