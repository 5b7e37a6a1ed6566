"""Each person's evaluated conversation, kept while the model talks with someone else.

One llama.cpp context serves everyone, one turn at a time. Each person's prompt starts
with their own system prompt (their name, their answers, her self toward them), so when
the model turns to another person, llama.cpp's prefix matching finds almost nothing to
reuse and re-reads the whole prompt: hundreds of tokens at ~65 tokens/s on two cores,
seconds before every first word. So when the model switches person, the evaluated state
of the one it leaves is written to disk (``kvcache``, as ``os1 chat`` does across
restarts: about 30 KB a token) and the state of the one it turns to is loaded, if it is
there (also after a restart). Only the ``keep`` most recent people keep a file; the files
hold their conversation, so they live in the data dir and are deleted when pushed out.
Reusing an evaluated prefix never shows one person another's words: the prefix is reused
only where the tokens are identical to the new prompt's own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from os1.llm.base import Model
from os1.llm.llama import LlamaModel
from os1.storage.private_files import shred

KEPT_STATES = 32


class ModelStates:
    """For one or more model workers over the same model file: a state saved by one worker
    loads into another (``kvcache`` checks the model and context size)."""

    def __init__(self, folder: Path, keep: int = KEPT_STATES) -> None:
        """``keep=0``: no states kept (every switch re-reads the prompt)."""
        self.folder = folder
        self.keep = keep
        self._current: dict[int, str] = {}  # model worker (id) -> whose state it holds
        self._saved: OrderedDict[str, Path] = OrderedDict()
        for path in sorted(folder.glob("*.kv"), key=lambda p: p.stat().st_mtime):
            self._saved[path.stem.replace("-", ":", 1)] = path  # from before a restart
        self._trim()
        self._lock = threading.Lock()
        self.restored = 0

    def holds(self, model: Model, user_id: str) -> bool:
        return self._current.get(id(model)) == user_id

    def switch_to(self, model: Model, user_id: str) -> None:
        """Called inside the person's turn, before ``model`` is used for it."""
        if not isinstance(model, LlamaModel) or self.keep <= 0:
            return
        with self._lock:
            current = self._current.get(id(model))
            if current == user_id:
                return
            if current:  # "": a forgotten person's, never saved
                self._save(model, current)
            path = self._saved.get(user_id)
            if path is not None and model.load_state(path) > 0:
                self.restored += 1
            self._current[id(model)] = user_id

    def _save(self, model: LlamaModel, user_id: str) -> None:
        path = self.folder / f"{user_id.replace(':', '-')}.kv"
        if model.save_state(path) == 0:
            return
        self._saved[user_id] = path
        self._saved.move_to_end(user_id)
        self._trim()

    def _trim(self) -> None:
        while len(self._saved) > self.keep:
            _, old = self._saved.popitem(last=False)
            old.unlink(missing_ok=True)

    def forget(self, user_id: str) -> None:
        """Forget-me: their saved state shredded, and no worker's state (which holds their
        conversation) saved under their name when the worker turns to someone else."""
        with self._lock:
            path = self._saved.pop(user_id, None)
            if path is not None:
                shred(path)
            for worker, whose in list(self._current.items()):
                if whose == user_id:
                    self._current[worker] = ""  # nobody's: never saved
