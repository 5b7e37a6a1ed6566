"""The action log: every side effect outside os1 is logged from its proposal on, moves
only forward, and one person's log is never another's."""

from __future__ import annotations

import pytest

from os1.errors import InputError
from os1.storage.actions import ActionLog
from os1.storage.db import Database

pytestmark = pytest.mark.both_backends


def test_an_action_goes_from_proposed_to_done_to_undone_and_keeps_what_was_confirmed(
        db: Database) -> None:
    log = ActionLog(db, "theo")
    action = log.propose("send", "Reply to Catherine", {"to": ["cat@example.org"]})
    assert action.status == "proposed" and action.detail == {"to": ["cat@example.org"]}
    done = log.settle(action.id, "done", detail={"to": ["cat@example.org"], "id": "<x>"})
    assert done.status == "done" and done.detail["id"] == "<x>"
    assert log.settle(action.id, "undone").status == "undone"
    assert [a.status for a in log.recent()] == ["undone"]


def test_an_action_is_settled_once_and_only_a_done_one_is_undone(db: Database) -> None:
    log = ActionLog(db, "theo")
    declined = log.propose("trash", "Clean up", {"ids": [1, 2]})
    with pytest.raises(InputError, match="can't become undone"):
        log.settle(declined.id, "undone")
    log.settle(declined.id, "declined")
    with pytest.raises(InputError, match="is declined"):
        log.settle(declined.id, "done")


def test_one_persons_actions_are_not_anothers(db: Database) -> None:
    theo, amy = ActionLog(db, "theo"), ActionLog(db, "amy")
    mine = theo.propose("send", "Reply", {"to": ["a@b.c"]})
    assert amy.recent() == []
    with pytest.raises(InputError, match="no action"):
        amy.get(mine.id)
    with pytest.raises(InputError, match="no action"):
        amy.settle(mine.id, "done")
    assert theo.get(mine.id).status == "proposed"
