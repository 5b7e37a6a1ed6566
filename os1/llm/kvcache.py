"""Keeping llama.cpp's evaluated prompt across restarts.

Within a process llama-cpp-python reuses the evaluated prefix of the last prompt. A new
process starts cold and would evaluate the system prompt and the whole conversation window
again before her first word: tens of seconds on a small machine. So when a session ends
the evaluated tokens and their KV state are written to the data dir (they encode the
conversation, so they are private data, not cache), and the next start loads them; the
usual prefix matching then decides how much of it the next prompt can use.

File layout: MAGIC, a 4-byte header length, a JSON header (model identity, context size,
the tokens), then llama.cpp's raw state bytes. Written to a temporary file and renamed, so
a crash never leaves half a file; anything that doesn't match is ignored, never loaded.

Each file is one person's (``os1 serve`` keeps one per person, named by their user id), so
a state is written to a file only if it was evaluated for that file's owner: a state
loaded from, or saved to, one file is never saved to another until something new has been
evaluated. A server that turned to a person and never used the model for them (a turn
answered by the mail desk, or one that failed first) used to save the previous person's
state, secrets and all, as theirs, and load it on their next turn.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import struct
import weakref
from pathlib import Path
from typing import Any

from os1.storage.private_files import open_private

MAGIC = b"OS1KV001"


def identity(model_path: Path, n_ctx: int) -> dict[str, Any]:
    stat = model_path.stat()
    return {"model": model_path.name, "size": stat.st_size, "n_ctx": n_ctx}


def save(llm: Any, model_id: dict[str, Any], path: Path) -> int:
    """Write the evaluated tokens and state; returns how many tokens were saved (0: none,
    also when the state is still the one another file holds: see the module's doc)."""
    n_tokens = int(llm.n_tokens)
    if n_tokens == 0:
        return 0
    tokens = [int(t) for t in llm.input_ids[:n_tokens]]
    if not _evaluated_for(llm, path, tokens):
        return 0
    header = json.dumps({**model_id, "tokens": tokens}).encode()
    partial = path.with_name(path.name + ".partial")
    try:
        with open_private(partial) as f:  # the state holds the conversation's words
            f.write(MAGIC + struct.pack("<I", len(header)) + header)
            f.write(_state_of(llm))
        os.replace(partial, path)
    except OSError:  # a full disk: a state not kept only costs the next start its time
        partial.unlink(missing_ok=True)
        return 0
    _origins[llm] = (path, _digest(tokens))
    return n_tokens


def load(llm: Any, model_id: dict[str, Any], path: Path) -> int:
    """Restore a saved state if it belongs to this model; returns tokens restored (0: none).
    A file that is unreadable or belongs elsewhere is removed, so it is never tried again."""
    try:
        data = path.read_bytes()
    except OSError:
        return 0
    parsed = _parse(data, model_id)
    if parsed is None:
        path.unlink(missing_ok=True)
        return 0
    tokens, state = parsed
    if not _set_state(llm, state):
        llm.reset()
        path.unlink(missing_ok=True)
        return 0
    llm.input_ids[: len(tokens)] = tokens
    llm.n_tokens = len(tokens)
    llm._requires_eval = True  # the logits are stale: the next call re-evaluates one token
    _origins[llm] = (path, _digest(tokens))
    return len(tokens)


# The file each llama.cpp context's state was last saved to or loaded from, with a digest
# of its tokens then: while they are unchanged, the state is still that file's owner's.
_origins: weakref.WeakKeyDictionary[Any, tuple[Path, str]] = weakref.WeakKeyDictionary()


def _evaluated_for(llm: Any, path: Path, tokens: list[int]) -> bool:
    origin = _origins.get(llm)
    return origin is None or origin[0] == path or origin[1] != _digest(tokens)


def _digest(tokens: list[int]) -> str:
    return hashlib.sha256(struct.pack(f"<{len(tokens)}i", *tokens)).hexdigest()


def _state_of(llm: Any) -> memoryview:
    """llama.cpp's state: the KV cache of the evaluated tokens, and what goes with it
    (tens of MB: a view, not a copy)."""
    import llama_cpp

    size = llama_cpp.llama_state_get_size(llm._ctx.ctx)
    buffer = (ctypes.c_uint8 * int(size))()
    written = int(llama_cpp.llama_state_get_data(llm._ctx.ctx, buffer, size))
    return memoryview(buffer)[:written]


def _set_state(llm: Any, state: bytes) -> bool:
    import llama_cpp

    buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
    return bool(llama_cpp.llama_state_set_data(llm._ctx.ctx, buffer, len(state)) == len(state))


def _parse(data: bytes, model_id: dict[str, Any]) -> tuple[list[int], bytes] | None:
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4:
        return None
    (length,) = struct.unpack("<I", data[len(MAGIC):len(MAGIC) + 4])
    start = len(MAGIC) + 4
    try:
        header = json.loads(data[start:start + length])
    except ValueError:
        return None
    if {k: header.get(k) for k in model_id} != model_id:
        return None
    tokens = header.get("tokens")
    if not isinstance(tokens, list) or not tokens or len(tokens) > model_id["n_ctx"]:
        return None
    state = data[start + length:]
    return (tokens, state) if state else None
