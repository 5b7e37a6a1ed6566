"""What the whole server shares while it runs: the accounts, the gate to the model, the
limits, and whether she is loading, ready, failed or going to sleep.

One ``ServerState`` per app, made by ``create_app`` and given to routes through
``dependencies.py``. The model loads in a thread of its own at start-up (``wake``): until
it has, she is "loading" and a turn gets 503 with Retry-After, never a wait.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from os1.config import Settings
from os1.errors import OS1Error
from os1.llm.base import Model
from os1.server.accounts import AccountStore
from os1.server.farewell import Farewell
from os1.server.gate import RateLimiter, TurnGate, Unavailable
from os1.server.minds import Minds
from os1.server.schemas import Phase
from os1.server.sign_ups import SignUpLimit
from os1.storage.db import Database

MakeMinds = Callable[[Settings, Model], Minds]


@dataclass
class ServerState:
    settings: Settings
    accounts: AccountStore
    gate: TurnGate
    limiter: RateLimiter
    limits: dict[str, Any]
    sign_ups: SignUpLimit
    invitation_required: bool = False
    phase: Phase = "loading"
    problem: str = ""
    minds: Minds | None = None
    farewell: Farewell = field(default_factory=lambda: Farewell(0.0))

    @classmethod
    def open(cls, settings: Settings, db: Database, limits: dict[str, Any],
             invitation_required: bool = False, max_waiting: int | None = None,
             model_workers: int = 1, sign_ups: SignUpLimit | None = None) -> ServerState:
        """``limits``: server.toml's; ``max_waiting`` and ``sign_ups`` override them."""
        waiting = int(limits["max_waiting"]) if max_waiting is None else max_waiting
        return cls(settings, AccountStore(db), TurnGate(model_workers, waiting),
                   RateLimiter(float(limits["requests_per_minute"]), int(limits["burst"])),
                   limits, sign_ups or SignUpLimit(int(limits["sign_ups_per_address"]),
                                                   int(limits["sign_ups_overall"])),
                   invitation_required, farewell=Farewell(float(limits["shutdown_grace_s"])))

    def wake(self, load_model: Callable[[], Model], make_minds: MakeMinds,
             model_workers: int) -> None:
        """Load the model (once per worker) and make her minds: "ready", or "failed" with
        what went wrong (never "loading" for ever). Runs in a thread of its own."""
        try:
            minds = make_minds(self.settings, load_model())
            for _ in range(model_workers - 1):
                minds.add_worker(load_model())
            self.minds, self.phase = minds, "ready"
        except OS1Error as error:
            self.problem, self.phase = f"{error} {error.hint}".strip(), "failed"
        except Exception as error:  # never "loading" for ever: say what went wrong
            self.problem, self.phase = f"{type(error).__name__}: {error}"[:300], "failed"

    def ready_minds(self) -> Minds:
        """The minds, or a 503 that says why she can't talk now."""
        if self.phase == "ready" and self.minds is not None:
            return self.minds
        raise self.unavailable()

    def unavailable(self) -> Unavailable:
        why = {"loading": "She is still waking up (the model is loading).",
               "shutting_down": "She is going to sleep (the server is shutting down).",
               "failed": f"She can't talk: {self.problem}"}.get(self.phase, "Not ready.")
        return Unavailable(why, 10 if self.phase == "loading" else 30)

    @contextmanager
    def reading(self) -> Iterator[Database]:
        """A connection of the caller's own (the turn threads have theirs)."""
        db = Database.open(self.settings.storage, migrate=False)
        try:
            yield db
        finally:
            db.close()
