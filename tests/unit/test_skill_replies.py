"""One yes/no for every skill, and a proposal settled only by the very next turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from os1.skills.proposals import Proposals
from os1.skills.replies import understood
from os1.storage.actions import ActionLog
from os1.storage.db import Database


@pytest.mark.parametrize("text", ["yes", "Yes please", "please", "OK!", "sure thing",
                                  "yes, send it to her", "go ahead."])
def test_a_plain_yes_is_yes(text: str) -> None:
    assert understood(text) == "yes"


@pytest.mark.parametrize("text", ["no", "No thanks", "not now", "cancel that", "Nope.",
                                  "never mind", "wait"])
def test_a_plain_no_is_no(text: str) -> None:
    assert understood(text) == "no"


@pytest.mark.parametrize("text", ["yes but not to him", "yesterday was nice", "Nothing much",
                                  "Now what?", "What is new?", "okra is good",
                                  "yes. and also can you look for the file from my landlord"])
def test_anything_else_is_neither(text: str) -> None:
    assert understood(text) is None


@pytest.fixture()
def log(tmp_path: Path) -> ActionLog:
    return ActionLog(Database.open(tmp_path / "os1.db"), "theo")


def test_yes_in_the_next_turn_leaves_the_proposal_for_the_skill_to_do(log: ActionLog) -> None:
    proposals = Proposals(log)
    action = proposals.propose("send", "a mail to Amy", {"to": ["amy@example.org"]})
    taken = proposals.take("yes please")
    assert taken is not None and taken[0].id == action.id and taken[1] == "yes"
    assert log.get(action.id).status == "proposed"
    assert proposals.take("yes") is None  # taken once: a second yes acts on nothing


@pytest.mark.parametrize(("text", "outcome", "error"), [("no thanks", "no", "declined"),
                                                        ("what time is it?", "lapsed",
                                                         "not confirmed")])
def test_anything_but_yes_declines_it(log: ActionLog, text: str, outcome: str,
                                      error: str) -> None:
    proposals = Proposals(log)
    action = proposals.propose("send", "a mail", {})
    taken = proposals.take(text)
    assert taken is not None and taken[1] == outcome
    assert log.get(action.id).status == "declined" and log.get(action.id).error == error


def test_a_turn_for_another_skill_lets_it_lapse(log: ActionLog) -> None:
    proposals = Proposals(log)
    first = proposals.propose("send", "a mail", {})
    proposals.lapse()
    assert log.get(first.id).status == "declined" and proposals.take("yes") is None
    second = proposals.propose("send", "another", {})
    proposals.propose("trash", "a third", {})  # a new proposal lapses the one waiting
    assert log.get(second.id).status == "declined"
