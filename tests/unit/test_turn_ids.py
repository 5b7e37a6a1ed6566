"""A turn says which messages it stored (``Turn.said_id``, ``Turn.reply_id``), so nothing
asks the log "what was written last": with another writer between (another session, a
second server worker) that would be someone else's message."""

from __future__ import annotations

from os1.config import Settings
from os1.llm.fake import FakeModel
from os1.mind.companion import Companion
from os1.skills.contract import SkillAnswer
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupRecord


class Elsewhere:
    """Stores a message of the same person from another session the moment her reply is
    stored, as a second connection could."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.log = ConversationLog(db, settings.user)
        self.session = self.log.start_session("elsewhere")

    def __call__(self) -> None:
        self.log.append(self.session, "user", "Meanwhile, on my phone")


class Desk:
    """Answers "my mail?" from its records, as a skill's desk does."""

    def answer(self, text: str) -> SkillAnswer | None:
        return SkillAnswer("You have no new mail.", "(no new mail)") if "mail" in text else None

    def passed(self) -> None:
        pass


def stored(db: Database, settings: Settings, message_id: int | None) -> tuple[str, str]:
    assert message_id is not None
    found = ConversationLog(db, settings.user).by_ids([message_id])
    assert len(found) == 1
    return found[0].role, found[0].content


def test_a_model_turn_names_his_message_and_her_reply_though_another_came_after(
        db: Database, settings: Settings, setup_record: SetupRecord) -> None:
    model = FakeModel()
    model.enqueue("Hello Theo.")
    elsewhere = Elsewhere(db, settings)
    companion = Companion(model, db, settings, after_reply=elsewhere)
    turn = companion.reply("Hi there")
    assert turn.said_id is not None and turn.reply_id is None, "nothing of hers yet"
    assert "".join(turn) == "Hello Theo."
    assert stored(db, settings, turn.said_id) == ("user", "Hi there")
    assert stored(db, settings, turn.reply_id) == ("assistant", "Hello Theo.")
    last = companion.log.last()
    assert last is not None and last.id != turn.reply_id, "the last one is the phone's"


def test_a_desks_answer_names_the_reply_it_kept(db: Database, settings: Settings,
                                                setup_record: SetupRecord) -> None:
    companion = Companion(FakeModel(), db, settings, desk=Desk())
    turn = companion.reply("Any mail?")
    assert "".join(turn) == "You have no new mail."
    assert stored(db, settings, turn.said_id) == ("user", "Any mail?")
    assert stored(db, settings, turn.reply_id) == ("assistant", "(no new mail)")


def test_a_spoken_turn_names_its_reply_once_settled_as_far_as_it_was_heard(
        db: Database, settings: Settings, setup_record: SetupRecord) -> None:
    model = FakeModel()
    model.enqueue("One sentence. And another one.")
    turn = Companion(model, db, settings).reply("Tell me something", spoken=True)
    assert "".join(turn) == "One sentence. And another one."
    assert turn.reply_id is None, "a held reply is stored only when settled"
    turn.settle("One sentence.", interrupted=True)
    assert stored(db, settings, turn.reply_id) == ("assistant", "One sentence.")


def test_a_turn_cut_off_before_her_first_word_stored_no_reply(
        db: Database, settings: Settings, setup_record: SetupRecord) -> None:
    turn = Companion(FakeModel(), db, settings).reply("Are you there?")
    turn.close()
    assert turn.reply_id is None
    assert stored(db, settings, turn.said_id) == ("user", "Are you there?")
