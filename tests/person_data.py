"""A person with something in every table that holds a person's data, for the export,
import and forget-me tests. Every piece of text carries a marker word of its own
(``Planted.canaries``), so a test can look for each in the database's files.

The tables are read from the live schema by the tests themselves (``schema_tables``),
not from os1's own map, so a table added later that this module doesn't fill, or that
os1 doesn't export or forget, makes them fail.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from os1.letters.library import LetterLibrary
from os1.letters.records import Edit
from os1.letters.review import Reviews
from os1.life.diary import LifeLog
from os1.life.outbox import Outbox
from os1.life.reasons import Reason
from os1.life.rules import LifeRules, LifeRulesStore
from os1.memory.embeddings import HashEmbedder
from os1.memory.memories import MemoryStore
from os1.memory.records import MemoryDraft
from os1.storage.artefacts import ArtefactStore
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from tests.conftest import make_setup_record

# Made by SQLite's FTS5 from memories_fts: derived from memories, never anyone's own.
FTS_PREFIX = "memories_fts"


@dataclass
class Planted:
    user_id: str
    canaries: list[str] = field(default_factory=list)
    embeddings: list[bytes] = field(default_factory=list)

    def word(self) -> str:
        """A new marker: random letters (no prefix shared with another marker, which the
        full-text index would store only once), ending in x (no stemmer cuts it)."""
        word = "".join(secrets.choice(string.ascii_lowercase) for _ in range(13)) + "x"
        self.canaries.append(word)
        return word


def schema_tables(db: Database) -> list[str]:
    """Every table of the live schema, read from the database's own catalogue."""
    if db.backend == "sqlite":
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                          " AND name NOT LIKE 'sqlite_%'")
    else:
        rows = db.execute("SELECT table_name FROM information_schema.tables"
                          " WHERE table_schema = current_schema()")
    return sorted(str(r[0]) for r in rows if not str(r[0]).startswith(FTS_PREFIX))


def has_user_id(db: Database, table: str) -> bool:
    if db.backend == "sqlite":
        return any(r[1] == "user_id" for r in db.execute(f"PRAGMA table_info({table})"))
    return db.execute("SELECT 1 FROM information_schema.columns WHERE table_schema ="
                      " current_schema() AND table_name = ? AND column_name = 'user_id'",
                      (table,)).fetchone() is not None


def new_account(db: Database, username: str) -> str:
    """An os1 serve account (the user id its data is kept under), with a login token,
    the invitation it used and a wrong password on record."""
    now = time.time()
    with db.transaction() as tx:
        account = int(tx.execute(
            "INSERT INTO accounts(username, display_name, password_hash, created_at)"
            " VALUES (?,?,?,?) RETURNING id",
            (username, f"Display {username}", f"$argon2id$fake-{username}", now)).fetchone()[0])
        tx.execute("INSERT INTO account_tokens(digest, account_id, created_at, expires_at)"
                   " VALUES (?,?,?,?)", (f"token-{username}", account, now, now + 60))
        tx.execute("INSERT INTO invitations(digest, created_at, used_by, used_at)"
                   " VALUES (?,?,?,?)", (f"invite-{username}", now, account, now))
        tx.execute("INSERT INTO login_failures(username, at) VALUES (?,?)", (username, now))
    return f"account:{account}"


def plant(db: Database, user_id: str, home: Path | None = None,
          planted: Planted | None = None) -> Planted:
    """Fill every table of ``user_id``'s (called twice, their rows interleave with
    another's); with ``home``, also their saved model states and vector index file."""
    planted = planted or Planted(user_id)
    w = planted.word
    log = ConversationLog(db, user_id)
    session = log.start_session(f"client {w()}")
    said = log.append(session, "user", f"My sister is called {w()}.")
    answer = log.append(session, "assistant", f"What a lovely name, {w()}.", "interrupted")
    SetupStore(db, user_id).save(make_setup_record(user_name=f"Theo {w()}",
                                                   answers={"name": "Theo", "hope": w()}))
    embedder = HashEmbedder(64, name=f"hash-{w()}")
    store = MemoryStore(db, user_id, embedder, ann_threshold=2)
    store.add("fact", f"His sister is {w()}.", subject="sister", sources=[said.id],
              event_at=time.time() - 86400)  # superseded by the next
    new = store.add("fact", f"His sister is now {w()}.", subject="sister", sources=[answer.id])
    insight = store.add("insight", f"He cares for his sister {w()}.", derived_from=[new.id])
    store.edit(insight.id, f"He loves his sister {w()}.")
    store.add_many([MemoryDraft("moment", f"Theo said: {w()}", sources=[said.id],
                                context=f"Before that {w()}")])
    store.forget(store.add("fact", f"A secret {w()}.").id)
    store.mark_processed(answer.id, "moments")
    store.mark_processed(said.id, "extracted")
    store.mark_processed(new.id, "reflected")
    planted.embeddings += [bytes(r[0]) for r in db.execute(
        "SELECT embedding FROM memories WHERE user_id = ?", (user_id,))]
    _plant_mind(db, user_id, said.id, insight.id, w)
    _plant_mail_and_calendar(db, user_id, w)
    _plant_artefacts(db, user_id, home, w)
    _plant_letters(db, user_id, w)
    _plant_works(db, user_id, w)
    _plant_life(db, user_id, new.id, w)
    if home is not None:
        store.prepare_index()  # its file names the embedder, a marker
        _plant_states(home, user_id, w)
    return planted


def _plant_mind(db: Database, user_id: str, message_id: int, insight_id: int,
                word: Callable[[], str]) -> None:
    now = time.time()
    with db.transaction() as tx:
        tx.execute("INSERT INTO moods(user_id, valence, arousal, updated_at) VALUES (?,?,?,?)"
                   " ON CONFLICT(user_id) DO NOTHING", (user_id, 0.25, -0.5, now))
        tx.execute("INSERT INTO mood_events(user_id, at, message_id, valence, arousal,"
                   " hurtful, cause) VALUES (?,?,?,?,?,?,?)",
                   (user_id, now, message_id, -0.5, 0.5, 1, f"he said {word()}"))
        tx.execute("INSERT INTO self_versions(user_id, created_at, model_json, reason,"
                   " source_ids) VALUES (?,?,?,?,?)",
                   (user_id, now, json.dumps({"traits": [word()]}), f"because {word()}",
                    json.dumps([insight_id])))
        tx.execute("INSERT INTO memory_claims(user_id, holder, until) VALUES (?,?,?)"
                   " ON CONFLICT(user_id) DO NOTHING", (user_id, f"worker {word()}", now))


def _plant_mail_and_calendar(db: Database, user_id: str, word: Callable[[], str]) -> None:
    now = time.time()
    with db.transaction() as tx:
        account = int(tx.execute(
            "INSERT INTO mail_accounts(user_id, name, address, login, imap_host, imap_port,"
            " imap_security, smtp_host, smtp_port, smtp_security, created_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (user_id, f"m{word()}", f"{word()}@example.org", word(), "imap.example.org", 993,
             "tls", "smtp.example.org", 465, "tls", now)).fetchone()[0])
        tx.execute("INSERT INTO mail_folders(user_id, account_id, folder, uidvalidity,"
                   " last_uid, synced_at) VALUES (?,?,?,?,?,?)",
                   (user_id, account, f"INBOX.{word()}", 7, 42, now))
        mail = int(tx.execute(
            "INSERT INTO mail_messages(user_id, account_id, folder, uidvalidity, uid,"
            " message_id, from_name, from_addr, to_addrs, cc_addrs, subject, sent_at, body,"
            " attachments, size, stored_at, signals, category, sorted_by, priority, told)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (user_id, account, "INBOX", 7, 42, f"<{word()}@example.org>", word(),
             "amy@example.org", "[]", "[]", f"Subject {word()}", now, f"Body {word()}", "[]",
             1234, now, "[]", "newsletter", "you", 0.75, 1)).fetchone()[0])
        trash = {"ids": [mail, 999_999], "by_category": {"newsletter": 1},
                 "moved": {f"m{word()}": {"folder": "Trash", "pairs": [[mail, 43]]}}}
        tx.execute("INSERT INTO actions(user_id, kind, summary, detail, status, error,"
                   " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                   (user_id, "trash", f"Move {word()}", json.dumps(trash), "done", "", now,
                    now))
        tx.execute("INSERT INTO actions(user_id, kind, summary, detail, status, error,"
                   " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                   (user_id, "send", f"Send {word()}", json.dumps({"body": word()}),
                    "failed", f"refused {word()}", now, now))
        source = int(tx.execute(
            "INSERT INTO calendar_sources(user_id, name, kind, url, username, created_at,"
            " synced_at) VALUES (?,?,?,?,?,?,?) RETURNING id",
            (user_id, f"c{word()}", "caldav", f"https://{word()}.example.org/", word(), now,
             now)).fetchone()[0])
        tx.execute("INSERT INTO calendar_events(user_id, source_id, uid, starts_at, ends_at,"
                   " all_day, title, location, description) VALUES (?,?,?,?,?,?,?,?,?)",
                   (user_id, source, word(), now + 3600, now + 7200, 0, f"Lunch {word()}",
                    word(), word()))
        tx.execute("INSERT INTO calendar_reminders(user_id, source_id, uid, starts_at, title,"
                   " due_at, said_at, missed) VALUES (?,?,?,?,?,?,?,?)",
                   (user_id, source, word(), now + 3600, f"Lunch {word()}", now + 3000,
                    None, 0))


def _plant_artefacts(db: Database, user_id: str, home: Path | None,
                     word: Callable[[], str]) -> None:
    """A thing a skill made: with ``home``, its file too."""
    if home is not None:
        ArtefactStore(db, user_id, home).add("letters", "letter", f"To {word()}",
                                             f"Dear {word()}", "letter.txt")
        return
    with db.transaction() as tx:
        tx.execute("INSERT INTO artefacts(user_id, skill, kind, title, path, created_at)"
                   " VALUES (?,?,?,?,?,?)",
                   (user_id, "letters", "letter", f"To {word()}", f"letters/{word()}.txt",
                    time.time()))


def _plant_letters(db: Database, user_id: str, word: Callable[[], str]) -> None:
    """A letter in two versions, her suggestion on it waiting, a change he said no to."""
    library = LetterLibrary(db, user_id)
    letter = library.add(f"Dear {word()}, evrey day.", written_for=word())
    letter = library.revise(letter.id, f"Dear {word()}, evrey day.", "edited")
    start = letter.text.index("evrey")
    Reviews(db, user_id, library).open(letter, [Edit(start, start + 5, "evrey", "every",
                                                     "spelling", word(), "harper")])
    with db.transaction() as tx:
        tx.execute("INSERT INTO letter_rejections(user_id, original, replacement, kind,"
                   " created_at) VALUES (?,?,?,?,?)",
                   (user_id, word(), word(), "spelling", time.time()))


def _plant_works(db: Database, user_id: str, word: Callable[[], str]) -> None:
    """A drawing she made in two versions, the second naming its file (the artefact)."""
    artefact = db.execute("SELECT max(id) FROM artefacts WHERE user_id = ?",
                          (user_id,)).fetchone()[0]
    now = time.time()
    with db.transaction() as tx:
        work = int(tx.execute(
            "INSERT INTO works(user_id, kind, title, about, moment, created_at)"
            " VALUES (?,?,?,?,?,?) RETURNING id",
            (user_id, "drawing", word(), f"us at {word()}", word(), now)).fetchone()[0])
        for number, files in ((1, "{}"), (2, json.dumps({"png": artefact}))):
            tx.execute("INSERT INTO work_versions(user_id, work_id, number, request,"
                       " her_words, source, character, plan, files, created_at)"
                       " VALUES (?,?,?,?,?,?,?,?,?,?)",
                       (user_id, work, number, word(), word(), f"<svg>{word()}</svg>", "",
                        word(), files, now))


def _plant_life(db: Database, user_id: str, memory_id: int, word: Callable[[], str]) -> None:
    """Her own time with them: rules, a follow-up of a memory and a word after a
    silence (no memory), and what she did."""
    now = time.time()
    LifeRulesStore(db, user_id).save(replace(LifeRules.defaults(), daily_cap=3), now)
    outbox = Outbox(db, user_id)
    outbox.add(Reason("follow_up", f"follow_up:{word()}", word(), now, now + 1, 0.8,
                      memory_id), f"How did it go, {word()}?", now)
    outbox.add(Reason("missing", f"missing:{word()}", "3 days", now, now + 1, 0.4),
               f"I missed you, {word()}.", now)
    LifeLog(db, user_id).add("wrote to him", word(), now, 1.5)


def _plant_states(home: Path, user_id: str, word: Callable[[], str]) -> None:
    """The model's saved states of their conversation, as ``os1 chat`` and ``os1 serve``
    name them (their contents here are only markers)."""
    for path in (home / "state" / f"{user_id}.kv",
                 home / "state" / "server" / f"{user_id.replace(':', '-')}.kv"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"OS1KV001" + f"tokens of {word()}".encode())


# -- comparing a person's rows across two stores ------------------------------------------
# This test's own reading of which columns name other rows (os1's is in
# storage/person_tables.py): an import numbers rows afresh, so these compare through the
# translation of ids. ``test_every_column_that_looks_like_an_id_is_known`` keeps it whole.
REFERENCES = {
    ("messages", "session_id"): "sessions",
    ("memories", "superseded_by"): "memories",
    ("memory_links", "memory_id"): "memories",
    ("memory_links", "source_id"): "memories",
    ("memory_events", "memory_id"): "memories",
    ("mood_events", "message_id"): "messages",
    ("mail_folders", "account_id"): "mail_accounts",
    ("mail_messages", "account_id"): "mail_accounts",
    ("calendar_events", "source_id"): "calendar_sources",
    ("calendar_reminders", "source_id"): "calendar_sources",
    ("letter_versions", "letter_id"): "letters",
    ("letter_edits", "letter_id"): "letters",
    ("work_versions", "work_id"): "works",
    ("outreach", "memory_id"): "memories",
}
JSON_REFERENCES = {("memories", "source_message_ids"): "messages",
                   ("self_versions", "source_ids"): "memories",
                   ("memory_events", "detail"): "memories",
                   ("actions", "detail"): "mail_messages",
                   ("work_versions", "files"): "artefacts"}
MARKS = {("memory_progress", "last_message_id"): "messages",
         ("memory_progress", "last_moment_id"): "messages",
         ("memory_progress", "last_reflected_id"): "memories"}
# text: an RFC 822 Message-ID, who sorted a mail (rules, learned, you), the key a client
# sent a message under
NOT_IDS = {("mail_messages", "message_id"), ("mail_messages", "sorted_by"),
           ("messages", "client_id")}
# Tables with a user_id that an export leaves out on purpose.
LEFT_OUT = {"memory_claims"}


def columns(db: Database, table: str) -> list[str]:
    """Stored columns, from the database's own catalogue (not a generated one)."""
    if db.backend == "sqlite":
        return [str(r[1]) for r in db.execute(f"PRAGMA table_info({table})")]
    return [str(r[0]) for r in db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema ="
        " current_schema() AND table_name = ? AND is_generated = 'NEVER'"
        " ORDER BY ordinal_position", (table,))]


def rows_of(db: Database, table: str, user_id: str) -> list[dict[str, object]]:
    names = columns(db, table)
    order = "id" if "id" in names else ", ".join(n for n in names if n != "embedding")
    return [{n: bytes(v) if isinstance(v, memoryview) else v for n, v in zip(names, r,
                                                                              strict=True)}
            for r in db.execute(f"SELECT {', '.join(names)} FROM {table}"
                                f" WHERE user_id = ? ORDER BY {order}", (user_id,))]


def assert_same_person(source: Database, old_user: str, dest: Database,
                       new_user: str) -> dict[str, int]:
    """Every table with a user_id: the person's rows in ``dest`` are those in ``source``,
    column for column, with ids translated. Returns the rows compared per table."""
    tables = [t for t in schema_tables(source) if has_user_id(source, t)]
    before = {t: rows_of(source, t, old_user) for t in tables}
    after = {t: rows_of(dest, t, new_user) for t in tables}
    ids = {t: {int(str(a["id"])): int(str(b["id"])) for a, b in zip(before[t], after[t],
                                                                       strict=False)}
           for t in tables if before[t] and "id" in before[t][0]}
    for table in tables:
        assert before[table], f"the planted person has no rows in {table}"
        if table in LEFT_OUT:
            assert not after[table], table
            continue
        assert len(after[table]) == len(before[table]), table
        for old, new in zip(before[table], after[table], strict=True):
            assert set(old) == set(new), table
            for column, value in old.items():
                expected = _expected(table, column, value, old, new_user, ids)
                assert new[column] == expected, (table, column, value, new[column])
    return {t: len(after[t]) for t in tables}


def _expected(table: str, column: str, value: object, row: dict[str, object], new_user: str,
              ids: dict[str, dict[int, int]]) -> object:
    if column == "user_id":
        return new_user
    if column == "id":
        return ids[table][int(str(value))]
    if value is None:
        return None
    if (table, column) in REFERENCES:
        return _moved(ids[REFERENCES[table, column]], value)
    if (table, column) in MARKS:
        seen = [n for o, n in ids[MARKS[table, column]].items() if o <= int(str(value))]
        return max(seen, default=0)
    if (table, column) in JSON_REFERENCES:
        return _json_expected(table, str(value), row, ids[JSON_REFERENCES[table, column]])
    return value


def _moved(ids: dict[int, int], value: object) -> int:
    old = int(str(value))
    return ids.get(old, -old)  # a row the archive doesn't hold (forgotten): negated


def _json_expected(table: str, value: str, row: dict[str, object],
                   ids: dict[int, int]) -> str:
    parsed = json.loads(value)
    if table == "actions":
        if row["kind"] != "trash":
            return value
        parsed["ids"] = [_moved(ids, i) for i in parsed["ids"]]
        for where in parsed["moved"].values():
            where["pairs"] = [[_moved(ids, m), uid] for m, uid in where["pairs"]]
    elif isinstance(parsed, list):
        parsed = [_moved(ids, i) for i in parsed]
    else:
        parsed = {k: _moved(ids, v) for k, v in parsed.items()}
    return json.dumps(parsed)
