"""A skill's proposal, waiting for the very next turn: the one way anything she does
outside os1 is confirmed. It is logged when proposed (the action log shows what was
offered as well as what was done), and only a plain yes in the turn right after it acts;
any other turn settles it as declined, so a "yes" later, or one written inside a mail,
never acts."""

from __future__ import annotations

from typing import Any, Literal

from os1.skills.replies import understood
from os1.storage.actions import Action, ActionLog

Outcome = Literal["yes", "no", "lapsed"]


class Proposals:
    def __init__(self, actions: ActionLog) -> None:
        self.actions = actions
        self.pending: Action | None = None

    def propose(self, kind: str, summary: str, detail: dict[str, Any]) -> Action:
        """Logs the proposal; a proposal still waiting lapses (declined) first."""
        self.lapse()
        self.pending = self.actions.propose(kind, summary, detail)
        return self.pending

    def take(self, text: str) -> tuple[Action, Outcome] | None:
        """The proposal this turn answers, and how; None when none was waiting. On "yes"
        the caller does it and settles it (done or failed); "no" and "lapsed" are
        already settled as declined ("lapsed": the turn was about something else, and
        is for the caller to answer as usual)."""
        pending, self.pending = self.pending, None
        if pending is None:
            return None
        reply = understood(text)
        if reply == "yes":
            return pending, "yes"
        self.actions.settle(pending.id, "declined",
                            error="declined" if reply == "no" else "not confirmed")
        return pending, reply or "lapsed"

    def lapse(self) -> None:
        """The turn went to another skill: a proposal waiting for yes is declined."""
        pending, self.pending = self.pending, None
        if pending is not None:
            self.actions.settle(pending.id, "declined", error="not confirmed")
