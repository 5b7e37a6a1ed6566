"""The proof that a skill plugs in without a change to os1: a tiny skill package, written
here into a temporary directory, is installed with pip (offline: setuptools from os1's own
environment) into a temporary target put on ``sys.path``. The registry finds it; in a real
Companion turn it answers; what it proposes is logged and done only when the very next turn
says yes, declined otherwise; and the thing it makes is listed for its person alone, by
the store and by ``os1 things``."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from os1.config import Settings
from os1.llm.fake import FakeModel
from os1.mind.companion import Companion
from os1.mind.skilled import skill_desks
from os1.skills.registry import installed_skills
from os1.storage.actions import ActionLog
from os1.storage.artefacts import ArtefactStore
from os1.storage.db import Database
from os1.storage.setups import SetupRecord

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "os1-skill-tiny"
version = "0.1.0"

[project.entry-points."os1.skills"]
tiny = "os1_skill_tiny:SKILL"
broken = "os1_skill_tiny.not_there:SKILL"

[tool.setuptools]
packages = ["os1_skill_tiny"]
"""

SKILL = '''\
"""A tiny skill: "tiny ping" is answered from data; "note down WORDS" proposes a note,
written (an artefact) only if the very next turn says yes."""

from os1.skills.contract import BaseSkill, SkillAnswer
from os1.skills.proposals import Proposals
from os1.storage.actions import ActionLog
from os1.storage.artefacts import ArtefactStore


def said(text):
    return SkillAnswer(text, text)


class NoteDesk:
    def __init__(self, person):
        user = person.settings.user
        self.proposals = Proposals(ActionLog(person.db, user))
        self.things = ArtefactStore(person.db, user, person.settings.home)

    def answer(self, text):
        taken = self.proposals.take(text)
        if taken is not None:
            action, outcome = taken
            if outcome == "yes":
                thing = self.things.add("tiny", "note", action.detail["words"],
                                        action.detail["words"], "note.txt")
                self.proposals.actions.settle(action.id, "done",
                                              detail={**action.detail, "thing": thing.id})
                return said(f"Done: your note {thing.title!r} is kept.")
            if outcome == "no":
                return said("All right, no note.")
        if text.lower().startswith("tiny ping"):
            return said("tiny pong")
        if text.lower().startswith("note down "):
            words = text[len("note down "):].strip()
            self.proposals.propose("tiny-note", f"A note: {words}", {"words": words})
            return said(f"Shall I note down {words!r}?")
        return None

    def passed(self):
        self.proposals.lapse()


class TinySkill(BaseSkill):
    name = "tiny"
    order = 50

    def desk(self, person):
        return NoteDesk(person)


SKILL = TinySkill()
'''


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tiny package pip-installed into a target on ``sys.path`` (no network: the
    build backend is the setuptools already installed)."""
    source, target = tmp_path_factory.mktemp("tiny-src"), tmp_path_factory.mktemp("target")
    (source / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (source / "os1_skill_tiny").mkdir()
    (source / "os1_skill_tiny" / "__init__.py").write_text(SKILL, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--disable-pip-version-check",
                    "--target", str(target), str(source)], check=True, capture_output=True)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    installed_skills.cache_clear()
    yield target
    sys.path.remove(str(target))
    sys.modules.pop("os1_skill_tiny", None)
    installed_skills.cache_clear()


@pytest.fixture
def her(installed: Path, fake_model: FakeModel, db: Database, settings: Settings,
        setup_record: SetupRecord) -> Companion:
    return Companion(fake_model, db, settings,
                     desk=skill_desks(settings, db, lambda: fake_model, None))


def say(her: Companion, text: str) -> str:
    return "".join(her.reply(text))


def echo(text: str) -> str:
    """The fake model's reply to ``text``: the turn was hers, not a skill's."""
    return f"You said: {text}"


def test_the_registry_finds_it_beside_os1s_own_and_leaves_out_its_broken_twin(
        installed: Path, caplog: pytest.LogCaptureFixture) -> None:
    installed_skills.cache_clear()
    with caplog.at_level(logging.WARNING, logger="os1.skills.registry"):
        names = [s.name for s in installed_skills()]
    assert names == ["calendar", "mail", "letters", "made", "tiny", "compose", "draw"]
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith("The skill 'broken' (os1_skill_tiny.not_there:SKILL, from the "
                              "package os1-skill-tiny) is left out: it failed to import")


def test_it_answers_a_message_in_a_real_turn_without_the_model(
        her: Companion, fake_model: FakeModel) -> None:
    assert say(her, "tiny ping") == "tiny pong"
    assert fake_model.calls == []
    assert say(her, "How was your day?") == echo("How was your day?"), "the rest is hers"
    assert len(fake_model.calls) == 1


def test_what_it_proposes_is_logged_and_done_only_on_the_next_turns_yes(
        her: Companion, db: Database, settings: Settings) -> None:
    actions = ActionLog(db, settings.user)
    assert say(her, "note down buy milk") == "Shall I note down 'buy milk'?"
    [proposed] = actions.recent()
    assert (proposed.kind, proposed.status) == ("tiny-note", "proposed")
    assert ArtefactStore(db, settings.user, settings.home).list() == []

    assert say(her, "yes please") == "Done: your note 'buy milk' is kept."
    done = actions.get(proposed.id)
    [thing] = ArtefactStore(db, settings.user, settings.home).list()
    assert done.status == "done" and done.detail["thing"] == thing.id
    assert (thing.skill, thing.kind, thing.title) == ("tiny", "note", "buy milk")
    assert thing.path is not None and thing.path.read_text() == "buy milk"
    assert say(her, "yes") == echo("yes"), "a second yes acts on nothing: the model answers"
    assert len(ArtefactStore(db, settings.user, settings.home).list()) == 1


@pytest.mark.parametrize(("reply", "error", "answer"), [
    ("no thanks", "declined", "All right, no note."),
    ("What a lovely evening.", "not confirmed", echo("What a lovely evening.")),
    ("tiny ping", "not confirmed", "tiny pong"),
])
def test_anything_but_yes_in_the_next_turn_declines_it(
        her: Companion, db: Database, settings: Settings, reply: str, error: str,
        answer: str) -> None:
    say(her, "note down call mum")
    assert say(her, reply) == answer
    [action] = ActionLog(db, settings.user).recent()
    assert (action.status, action.error) == ("declined", error)
    assert say(her, "yes") == echo("yes"), "a yes after the turn that mattered does nothing"
    assert ActionLog(db, settings.user).get(action.id).status == "declined"
    assert ArtefactStore(db, settings.user, settings.home).list() == []


def test_a_turn_another_skill_answers_lets_it_lapse(her: Companion, db: Database,
                                                     settings: Settings) -> None:
    say(her, "note down water the plants")
    say(her, "what do I have tomorrow?")  # the calendar's
    [action] = ActionLog(db, settings.user).recent()
    assert (action.status, action.error) == ("declined", "not confirmed")


def test_what_it_made_is_listed_for_its_person_and_not_for_another(
        her: Companion, db: Database, settings: Settings) -> None:
    say(her, "note down the blue fox")
    say(her, "yes")
    amy = ArtefactStore(db, "amy", settings.home)
    amy.add("tiny", "note", "amy's own secret", "hers", "note.txt")
    assert [t.title for t in ArtefactStore(db, settings.user, settings.home).list()] == [
        "the blue fox"]
    assert [t.title for t in amy.list()] == ["amy's own secret"]

    from os1.cli import cli

    listed = CliRunner().invoke(cli, ["things"], catch_exceptions=False)
    assert listed.exit_code == 0
    assert "the blue fox" in listed.output and "tiny" in listed.output
    assert "amy's own secret" not in listed.output
