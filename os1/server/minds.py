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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace

from os1.config import Settings
from os1.data import read_toml
from os1.llm.base import Model
from os1.memory.embeddings import Embedder
from os1.mind.companion import Companion
from os1.mind.critic import Critic
from os1.mind.her import companion_for
from os1.mind.recollection import Recollection
from os1.mind.setup import SetupAnswers, SetupScript, complete_setup
from os1.mind.steering import Steering
from os1.server.accounts import Account
from os1.server.memory import ServerMemory
from os1.server.states import KEPT_STATES, ModelStates
from os1.storage.db import Database
from os1.storage.setups import SetupRecord, SetupStore

KEEP = 256


def setup_for(account: Account) -> SetupRecord:
    """What she knows of someone who signed up: their name. Her name is the server's."""
    her = read_toml("server.toml")["companion"]
    return SetupRecord(user_name=account.display_name, answers={"name": account.display_name},
                       voice="female", companion_name=her["name"], name_reason=her["reason"])


@dataclass
class _Entry:
    companion: Companion
    db: Database
    in_use: int = 1
    evicted: bool = False


class Minds:
    def __init__(self, settings: Settings, model: Model, embedder: Embedder | None = None,
                 steering: Steering | None = None, clock: Callable[[], float] = time.time,
                 keep: int = KEEP, memory: ServerMemory | None = None,
                 kept_states: int = KEPT_STATES, critic: Critic | None = None) -> None:
        """``embedder``: each person's memories are recalled in their turns; ``memory``:
        new memories are written after them (in the background); ``critic``: hers, one
        for everyone (it keeps nothing of anyone's)."""
        self.settings = settings
        self.model = model
        self.embedder = embedder
        self.memory = memory
        self.steering = steering
        self.critic = critic
        self.clock = clock
        self.keep = keep
        self._lock = threading.Lock()
        self._companions: OrderedDict[str, _Entry] = OrderedDict()
        self.states = ModelStates(settings.home / "state" / "server", kept_states)
        self._free: list[Model] = [model]  # model workers not in a turn

    def add_worker(self, model: Model) -> None:
        """Another model worker (the turn gate must allow as many turns at once)."""
        with self._lock:
            self._free.append(model)

    @contextmanager
    def companion(self, account: Account) -> Iterator[Companion]:
        """The person's companion for one turn (``TurnGate`` gives each person one turn at
        a time, so one companion is never used by two threads at once). A companion
        pushed out of the cache closes its database connection as soon as no turn uses
        it: left to the garbage collector, thousands of connections would pile up, three
        file descriptors each."""
        with self._lock:
            entry = self._companions.get(account.user_id)
            if entry is not None:
                self._companions.move_to_end(account.user_id)
                entry.in_use += 1
        if entry is None:
            entry = _Entry(*self._open(account))
            with self._lock:
                self._companions[account.user_id] = entry
                while len(self._companions) > self.keep:
                    _, old = self._companions.popitem(last=False)
                    old.evicted = True
                    if not old.in_use:
                        old.db.close()
        model = self._take_worker(account.user_id)
        try:
            self.states.switch_to(model, account.user_id)
            entry.companion.model = model
            yield entry.companion
        finally:
            with self._lock:
                self._free.append(model)
                entry.in_use -= 1
                if entry.evicted and not entry.in_use:
                    entry.db.close()

    def _take_worker(self, user_id: str) -> Model:
        """A free worker, the one that holds this person's conversation if it is free."""
        with self._lock:
            model = next((m for m in self._free if self.states.holds(m, user_id)),
                         self._free[0])
            self._free.remove(model)
            return model

    def set_up(self, account: Account, script: SetupScript, answers: SetupAnswers) \
            -> SetupRecord:
        """The first-run setup for someone who has none: she chooses her name with the
        model (on a free worker; the caller holds the person's place in the turn gate)."""
        model = self._take_worker(account.user_id)
        try:
            self.states.switch_to(model, account.user_id)
            db = Database.open(replace(self.settings, user=account.user_id).storage)
            try:
                return complete_setup(model, SetupStore(db, account.user_id), script, answers)
            finally:
                db.close()
        finally:
            with self._lock:
                self._free.append(model)

    def close(self) -> None:
        if self.memory is not None:
            self.memory.stop()

    def forget(self, user_id: str) -> None:
        """Forget-me: their companion let go (its connection closed once no turn uses
        it), their model states dropped, their memory work finished or dropped."""
        with self._lock:
            entry = self._companions.pop(user_id, None)
            if entry is not None:
                entry.evicted = True
                if not entry.in_use:
                    entry.db.close()
        self.states.forget(user_id)
        if self.memory is not None:
            self.memory.forget(user_id)

    def _open(self, account: Account) -> tuple[Companion, Database]:
        settings = replace(self.settings, user=account.user_id)
        db = Database.open(settings.storage)
        setups = SetupStore(db, account.user_id)
        if setups.current() is None:
            setups.save(setup_for(account))
        memory = None if self.embedder is None else \
            Recollection(db, account.user_id, self.embedder, self.clock, shared_self=True)
        writer = self.memory
        # her skills serve this person's own mail and calendars (os1 mail/calendar
        # --account), drafting with the worker lent to the turn under way
        companion = companion_for(
            self.model, db, settings, memory, steering=self.steering, critic=self.critic,
            clock=self.clock, busy=writer.gate.busy if writer is not None else nullcontext,
            after_reply=(lambda: writer.wake(account.user_id)) if writer is not None
            else (lambda: None))
        companion.open_session("server")
        return companion, db
