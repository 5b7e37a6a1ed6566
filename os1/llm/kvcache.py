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
"""

from __future__ import annotations

import ctypes
import json
import os
import struct
from pathlib import Path
from typing import Any

from os1.storage.private_files import open_private

MAGIC = b"OS1KV001"


def identity(model_path: Path, n_ctx: int) -> dict[str, Any]:
    stat = model_path.stat()
    return {"model": model_path.name, "size": stat.st_size, "n_ctx": n_ctx}


def save(llm: Any, model_id: dict[str, Any], path: Path) -> int:
    """Write the evaluated tokens and state; returns how many tokens were saved."""
    import llama_cpp

    n_tokens = int(llm.n_tokens)
    if n_tokens == 0:
        return 0
    size = llama_cpp.llama_state_get_size(llm._ctx.ctx)
    buffer = (ctypes.c_uint8 * int(size))()
    written = int(llama_cpp.llama_state_get_data(llm._ctx.ctx, buffer, size))
    header = json.dumps({**model_id, "tokens": llm.input_ids[:n_tokens].tolist()}).encode()
    partial = path.with_name(path.name + ".partial")
    with open_private(partial) as f:  # the state holds the conversation's words
        f.write(MAGIC + struct.pack("<I", len(header)) + header)
        f.write(memoryview(buffer)[:written])
    os.replace(partial, path)
    return n_tokens


def load(llm: Any, model_id: dict[str, Any], path: Path) -> int:
    """Restore a saved state if it belongs to this model; returns tokens restored (0: none).
    A file that is unreadable or belongs elsewhere is removed, so it is never tried again."""
    import llama_cpp

    try:
        data = path.read_bytes()
    except OSError:
        return 0
    parsed = _parse(data, model_id)
    if parsed is None:
        path.unlink(missing_ok=True)
        return 0
    tokens, state = parsed
    buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
    if llama_cpp.llama_state_set_data(llm._ctx.ctx, buffer, len(state)) != len(state):
        llm.reset()
        path.unlink(missing_ok=True)
        return 0
    llm.input_ids[: len(tokens)] = tokens
    llm.n_tokens = len(tokens)
    llm._requires_eval = True  # the logits are stale: the next call re-evaluates one token
    return len(tokens)


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
