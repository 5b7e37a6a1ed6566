"""One mind, many relationships: a companion per person, on one shared model.

Each person gets their own ``Companion`` (their conversation, their history window, their
mood toward them), with its own database connection, so two people's turns never share
a transaction. They are kept for the most recently active people only; an evicted one is
rebuilt from the database on the person's next message (nothing lives only in memory).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

from os1.config import Settings
from os1.data import read_toml
from os1.llm.base import Model
from os1.memory.embeddings import Embedder
from os1.mind.companion import Companion
from os1.mind.recollection import Recollection
from os1.mind.steering import Steering
from os1.server.accounts import Account
from os1.storage.db import Database
from os1.storage.setups import SetupRecord, SetupStore

KEEP = 256


def setup_for(account: Account) -> SetupRecord:
    """What she knows of someone who signed up: their name. Her name is the server's."""
    her = read_toml("server.toml")["companion"]
    return SetupRecord(user_name=account.display_name, answers={"name": account.display_name},
                       voice="female", companion_name=her["name"], name_reason=her["reason"])


class Minds:
    def __init__(self, settings: Settings, model: Model, embedder: Embedder | None = None,
                 steering: Steering | None = None, clock: Callable[[], float] = time.time,
                 keep: int = KEEP) -> None:
        self.settings = settings
        self.model = model
        self.embedder = embedder
        self.steering = steering
        self.clock = clock
        self.keep = keep
        self._lock = threading.Lock()
        self._companions: OrderedDict[str, Companion] = OrderedDict()

    def companion(self, account: Account) -> Companion:
        """Only ever called inside the person's turn (``TurnGate.turn``), so one companion
        is never used by two threads at once."""
        with self._lock:
            found = self._companions.get(account.user_id)
            if found is not None:
                self._companions.move_to_end(account.user_id)
                return found
        companion = self._open(account)
        with self._lock:
            self._companions[account.user_id] = companion
            while len(self._companions) > self.keep:
                self._companions.popitem(last=False)  # its connection closes when unused
        return companion

    def _open(self, account: Account) -> Companion:
        settings = replace(self.settings, user=account.user_id)
        db = Database.open(settings.db_path)
        setups = SetupStore(db, account.user_id)
        if setups.current() is None:
            setups.save(setup_for(account))
        memory = None if self.embedder is None else \
            Recollection(db, account.user_id, self.embedder, self.clock)
        companion = Companion(self.model, db, settings, steering=self.steering,
                              clock=self.clock, memory=memory)
        companion.open_session("server")
        return companion
