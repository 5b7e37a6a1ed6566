"""The memory store: adding, superseding, editing, forgetting (thoroughly), per-user
isolation, crash-safe progress, damaged embeddings, and upgrading an older database."""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from os1.errors import InputError
from os1.memory.embeddings import HashEmbedder, Vector
from os1.memory.memories import MemoryStore
from os1.memory.records import KINDS, MAX_CONTENT_CHARS, Memory, MemoryDraft, MemoryNotFound
from os1.memory.retrieval import recall, recall_text, recall_vector
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.migrations import (
    MIGRATIONS,
    m001_conversations,
    m002_setup,
    m003_memories,
    m004_mind,
)
from os1.storage.sqlite import SQLiteDatabase
from tests.storage_checks import dump, fts_hits

pytestmark = pytest.mark.both_backends

LA = "Theo told me he lives in Los Angeles."
BOSTON = "Theo told me he moved to Boston for a job at a robotics company."
SISTER = "Theo told me his sister Marguerite lives in Lisbon."


class CountingEmbedder(HashEmbedder):
    """The fake embedder, counting batches (to check add_many embeds once)."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        self.batches.append(len(texts))
        return super().embed_passages(texts)


@pytest.fixture
def store(db: Database) -> MemoryStore:
    return MemoryStore(db, "theo", HashEmbedder())


# -- adding and reading ---------------------------------------------------------------------

def test_add_then_get_round_trips_every_field(store: MemoryStore) -> None:
    added = store.add("person", f"  {SISTER}\n", subject="Theo/Sister", importance=0.8,
                      event_at=1000.0, sources=[3, 4], at=2000.0)
    assert added == Memory(id=added.id, kind="person", content=SISTER, subject="theo/sister",
                           importance=0.8, created_at=2000.0, event_at=1000.0, sources=(3, 4),
                           superseded_by=None, superseded_at=None)
    assert store.get(added.id) == added
    assert added.active and added.when == 1000.0
    assert [e.action for e in store.events(added.id)] == ["created"]


def test_every_kind_is_accepted_and_unknown_ones_are_refused(store: MemoryStore) -> None:
    for kind in KINDS:
        store.add(kind, f"A memory of kind {kind}.")
    with pytest.raises(InputError) as caught:
        store.add("gossip", "Something I heard.")
    assert "'gossip'" in str(caught.value)
    assert all(kind in caught.value.hint for kind in KINDS)
    assert store.count() == len(KINDS)


@pytest.mark.parametrize("content", ["", "   \n\t ", "x" * (MAX_CONTENT_CHARS + 1)])
def test_empty_or_overlong_content_is_refused(store: MemoryStore, content: str) -> None:
    with pytest.raises(InputError):
        store.add("fact", content)
    assert store.count() == 0


def test_content_of_exactly_the_maximum_is_kept(store: MemoryStore) -> None:
    assert len(store.add("fact", "y" * MAX_CONTENT_CHARS).content) == MAX_CONTENT_CHARS


@pytest.mark.parametrize(("given", "kept"), [(1.7, 1.0), (-2.0, 0.0), (0.25, 0.25),
                                            (math.nan, 0.5)])
def test_importance_is_clamped(store: MemoryStore, given: float, kept: float) -> None:
    assert store.add("fact", "Theo likes tea.", importance=given).importance == kept


def test_active_is_newest_first_and_honours_limit(store: MemoryStore) -> None:
    for n in range(5):
        store.add("fact", f"Fact number {n}.", at=1000.0 + n)
    assert [m.content for m in store.active()] == [f"Fact number {n}." for n in range(4, -1, -1)]
    assert [m.content for m in store.active(limit=2)] == ["Fact number 4.", "Fact number 3."]
    assert store.count() == 5


def test_add_many_embeds_once_and_stores_all(db: Database) -> None:
    embedder = CountingEmbedder()
    store = MemoryStore(db, "theo", embedder)
    stored = store.add_many([MemoryDraft("fact", LA, subject="theo/home city"),
                             MemoryDraft("fact", BOSTON, subject="theo/home city"),
                             MemoryDraft("person", SISTER)], at=5.0)
    assert embedder.batches == [3]
    assert [m.content for m in store.active()] == [SISTER, BOSTON]
    assert store.get(stored[0].id).superseded_by == stored[1].id


def test_add_many_stores_nothing_if_one_draft_is_bad(store: MemoryStore) -> None:
    with pytest.raises(InputError):
        store.add_many([MemoryDraft("fact", LA), MemoryDraft("fact", " ")],
                       processed_up_to=10)
    assert store.count() == 0
    assert store.processed_up_to() == 0


# -- supersession and editing ---------------------------------------------------------------

def test_a_new_fact_about_the_same_subject_supersedes_the_old(store: MemoryStore) -> None:
    la = store.add("fact", LA, subject="theo/home city", at=1000.0)
    boston = store.add("fact", BOSTON, subject="  Theo/Home   City ", at=2000.0)

    assert [m.content for m in store.active()] == [BOSTON]
    old = store.get(la.id)
    assert old.superseded_by == boston.id and old.superseded_at == 2000.0
    assert store.history(la.id) == store.history(boston.id) == [old, boston]
    assert [(e.memory_id, e.action) for e in store.events()] == [
        (la.id, "created"), (boston.id, "created"), (la.id, "superseded")]
    for method in (recall, recall_text, recall_vector):
        found = [s.memory.id for s in method(store, "Where does Theo live, LA or Boston?")]
        assert la.id not in found and boston.id in found


def test_memories_without_a_subject_never_supersede(store: MemoryStore) -> None:
    store.add("fact", "Theo likes tea.")
    store.add("fact", "Theo likes coffee.")
    assert store.count() == 2


def test_edit_makes_a_new_version_that_keeps_the_rest(store: MemoryStore) -> None:
    original = store.add("event", "Theo had an interview at Boston Dynamics.",
                         subject="theo/interview", importance=0.9, event_at=500.0,
                         sources=[7])
    edited = store.edit(original.id, "Theo had an interview at a robotics start-up.")

    assert edited.id != original.id
    assert (edited.kind, edited.subject, edited.importance, edited.event_at, edited.sources) \
        == ("event", "theo/interview", 0.9, 500.0, (7,))
    assert store.get(original.id).superseded_by == edited.id
    assert [m.id for m in store.history(edited.id)] == [original.id, edited.id]
    assert store.events(original.id)[-1].action == "edited"
    assert store.edit(edited.id, f"  {edited.content} ") == edited


def test_only_the_current_version_can_be_edited(store: MemoryStore) -> None:
    la = store.add("fact", LA, subject="theo/home city")
    boston = store.add("fact", BOSTON, subject="theo/home city")
    with pytest.raises(InputError) as caught:
        store.edit(la.id, "Theo lived in LA until 2020.")
    assert f"memory {boston.id}" in str(caught.value)
    with pytest.raises(InputError):
        store.edit(boston.id, "   ")
    assert [m.content for m in store.active()] == [BOSTON]


def test_an_edited_insight_keeps_its_sources(store: MemoryStore) -> None:
    sister = store.add("person", SISTER)
    insight = store.add("insight", "Theo misses his family.", derived_from=[sister.id])
    assert store.sources_of(insight.id) == [sister.id]
    assert store.sources_of(store.edit(insight.id, "Theo misses his sister.").id) == [sister.id]
    assert store.sources_of(sister.id) == []


def test_deriving_from_an_unknown_memory_stores_nothing(store: MemoryStore) -> None:
    with pytest.raises(MemoryNotFound):
        store.add("insight", "Theo is lonely.", derived_from=[404])
    assert store.count() == 0


# -- forgetting -----------------------------------------------------------------------------

def test_forget_removes_the_whole_chain_its_index_entries_and_vectors(
        store: MemoryStore, db: Database) -> None:
    la = store.add("fact", LA, subject="theo/home city")
    boston = store.add("fact", BOSTON, subject="theo/home city")
    latest = store.edit(boston.id, "Theo told me he moved to Boston for a job at a bakery.")
    kept = store.add("person", SISTER)
    assert fts_hits(db, "angeles") == [la.id]

    assert store.forget(boston.id) == 3

    for gone in (la.id, boston.id, latest.id):
        with pytest.raises(MemoryNotFound):
            store.get(gone)
    assert fts_hits(db, "angeles") == [] and fts_hits(db, "boston") == []
    assert recall_text(store, "Boston Angeles") == []
    rows = db.execute("SELECT id, embedding FROM memories").fetchall()
    assert [(r[0], r[1] is not None) for r in rows] == [(kept.id, True)]
    assert store.active_vectors()[0] == [kept.id]
    assert [m.id for m in store.active()] == [kept.id]


def test_forget_takes_insights_derived_from_it_recursively(store: MemoryStore,
                                                           db: Database) -> None:
    sister = store.add("person", SISTER)
    other = store.add("fact", "Theo runs every morning.")
    lonely = store.add("insight", "Theo misses his family.", derived_from=[sister.id])
    deeper = store.add("insight", "Family is where Theo's sadness comes from.",
                       derived_from=[lonely.id, other.id])
    unrelated = store.add("insight", "Theo keeps himself busy.", derived_from=[other.id])

    assert store.forget(sister.id) == 3
    assert sorted(m.id for m in store.active()) == [other.id, unrelated.id]
    links = db.execute("SELECT memory_id, source_id FROM memory_links").fetchall()
    assert [tuple(r) for r in links] == [(unrelated.id, other.id)]
    assert {e.memory_id for e in store.events() if e.action == "forgotten"} == {
        sister.id, lonely.id, deeper.id}


def test_the_audit_trail_of_a_forgotten_memory_holds_no_content(store: MemoryStore,
                                                                db: Database) -> None:
    la = store.add("fact", LA, subject="theo/home city")
    store.edit(la.id, "Theo told me he lives in Los Angeles, in Silver Lake.")
    store.forget(la.id)
    everything = dump(db)
    for secret in ("Angeles", "Silver Lake", "theo/home city"):
        assert secret not in everything
    events = store.events(la.id)
    assert [e.action for e in events] == ["created", "edited", "forgotten"]
    assert all(e.detail is None for e in events)


@pytest.mark.sqlite_only  # PostgreSQL does not zero freed space: see docs/DEPLOY.md
def test_forgotten_words_are_not_left_in_the_database_files(store: MemoryStore,
                                                            db: Database) -> None:
    assert isinstance(db, SQLiteDatabase)
    secret = "Xylophonique"
    memory = store.add("fact", f"Theo's childhood nickname was {secret}.", subject="nickname")
    for n in range(30):
        store.add("fact", f"Filler memory number {n} about nothing in particular.")
    store.forget(memory.id)
    files = [p for p in db.path.parent.iterdir() if p.name.startswith(db.path.name)]
    for path in files:
        data = path.read_bytes()
        assert secret.encode() not in data and secret.lower().encode() not in data, path.name
        assert b"xylophoniqu" not in data, path.name  # the porter-stemmed FTS term


def test_forgetting_an_unknown_memory_raises(store: MemoryStore) -> None:
    with pytest.raises(MemoryNotFound) as caught:
        store.forget(12345)
    assert "12345" in str(caught.value)
    assert caught.value.hint == "See the memories there are with: os1 memory list"


# -- users ----------------------------------------------------------------------------------

def test_another_users_memory_looks_exactly_like_a_missing_one(db: Database) -> None:
    alice = MemoryStore(db, "alice", HashEmbedder())
    bob = MemoryStore(db, "bob", HashEmbedder())
    secret = alice.add("fact", "Alice is planning a surprise party for Marguerite.",
                       subject="alice/plans")
    missing = secret.id + 1000

    def message(action: str, memory_id: int) -> tuple[str, str]:
        with pytest.raises(MemoryNotFound) as caught:
            if action == "get":
                bob.get(memory_id)
            elif action == "edit":
                bob.edit(memory_id, "Bob was here.")
            elif action == "forget":
                bob.forget(memory_id)
            elif action == "history":
                bob.history(memory_id)
            else:
                bob.sources_of(memory_id)
        text = str(caught.value).replace(str(memory_id), "N")
        return text, caught.value.hint

    for action in ("get", "edit", "forget", "history", "sources"):
        assert message(action, secret.id) == message(action, missing)
    with pytest.raises(MemoryNotFound):
        bob.add("insight", "Bob knows Alice's secret.", derived_from=[secret.id])

    bob.add("fact", "Bob is planning a party too.", subject="alice/plans")
    assert alice.get(secret.id).superseded_by is None, "same subject, other user: untouched"
    assert recall(bob, "surprise party Marguerite")[0].memory.content.startswith("Bob")
    assert all(s.memory.id != secret.id for s in recall(bob, "surprise party Marguerite"))
    assert recall_text(bob, "Marguerite") == []
    assert bob.count() == 1 and alice.count() == 1
    assert alice.get(secret.id) == secret


# -- extraction progress --------------------------------------------------------------------

def test_processed_up_to_only_moves_forward_per_user(db: Database) -> None:
    theo = MemoryStore(db, "theo", HashEmbedder())
    other = MemoryStore(db, "other", HashEmbedder())
    assert theo.processed_up_to() == 0
    theo.mark_processed(10)
    theo.mark_processed(4)
    assert theo.processed_up_to() == 10
    theo.add_many([MemoryDraft("fact", LA)], processed_up_to=12)
    assert theo.processed_up_to() == 12
    assert theo.add_many([], processed_up_to=15) == [], "nothing worth remembering: still marked"
    assert theo.processed_up_to() == 15
    assert other.processed_up_to() == 0


# -- damaged embeddings ---------------------------------------------------------------------

@pytest.mark.parametrize("damage", [
    b"\x00\x01\x02",                                        # wrong length
    np.full(512, np.nan, dtype="<f4").tobytes(),            # NaN
    (np.ones(512, dtype="<f4") * 7).tobytes(),              # not a unit vector
    None,                                                   # missing
])
def test_a_damaged_embedding_is_skipped_and_reembedded(store: MemoryStore, db: Database,
                                                       damage: bytes | None) -> None:
    sister = store.add("person", SISTER)
    store.add("fact", "Theo runs along the river every morning.")
    db.execute("UPDATE memories SET embedding = ? WHERE id = ?", (damage, sister.id))

    fresh = MemoryStore(db, "theo", HashEmbedder())  # no cached vectors
    found = recall_vector(fresh, "Marguerite Lisbon sister")
    assert found[0].memory.id == sister.id
    assert found[0].cosine == pytest.approx(recall_vector(store, "Marguerite Lisbon sister")[0]
                                            .cosine)
    assert fresh.repair_embeddings() == 0, "recall already wrote the repaired vector back"


def test_repair_embeddings_reembeds_bad_rows_and_other_models(store: MemoryStore,
                                                              db: Database) -> None:
    first = store.add("fact", LA)
    second = store.add("fact", BOSTON)
    third = store.add("fact", SISTER)
    db.execute("UPDATE memories SET embedding = ? WHERE id = ?", (b"\x00", first.id))
    db.execute("UPDATE memories SET embedding_model = 'old/model' WHERE id = ?",
                          (second.id,))
    started: list[tuple[str, int]] = []
    done: list[int] = []

    def on_start(description: str, total: int) -> Callable[[int], None]:
        started.append((description, total))
        return done.append

    assert store.repair_embeddings(on_start) == 2
    assert started == [(f"Re-embedding 2 memories with {store.embedder.name}", 2)]
    assert sum(done) == 2
    assert store.repair_embeddings(on_start) == 0 and len(started) == 1
    ids, matrix = MemoryStore(db, "theo", HashEmbedder()).active_vectors()
    assert ids == [first.id, second.id, third.id]
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0)


def test_a_new_embedding_model_reembeds_on_first_recall(db: Database) -> None:
    MemoryStore(db, "theo", HashEmbedder(dim=64, name="small")).add("person", SISTER)
    bigger = MemoryStore(db, "theo", HashEmbedder(dim=128, name="bigger"))
    assert recall_vector(bigger, "Marguerite")[0].memory.content == SISTER
    model = db.execute("SELECT embedding_model FROM memories").fetchone()[0]
    assert model == "bigger"


# -- context: the moment before -------------------------------------------------------------

ASKED = "Theo said: Do you remember where my sister Marguerite lives?"
ANSWERED = "I said: She lives in Lisbon, near the river."
NEXT = "Theo said: Right, and she visits in June."


def conversation(store: MemoryStore) -> list[Memory]:
    """Three moments of one session, each with the one before as its context."""
    drafts = [MemoryDraft("moment", text, context=before)
              for text, before in ((ASKED, ""), (ANSWERED, ASKED), (NEXT, ANSWERED))]
    return store.add_many(drafts)


def test_a_moment_is_found_through_its_context_but_below_its_own_words(
        store: MemoryStore) -> None:
    asked, answered, _ = conversation(store)
    assert answered.context == ASKED and answered.content == ANSWERED
    found = [m.id for m, _ in store.text_search(["marguerite"], 10)]
    assert found == [asked.id, answered.id], "the answer follows the question naming her"
    assert store.add("fact", "Theo likes jazz.").context == ""
    odd = store.add_many([MemoryDraft("fact", "Theo likes rain.", context=ASKED)])[0]
    assert odd.context == "", "only a moment has a context"


def test_forgetting_a_moment_takes_its_words_out_of_the_next_moments_context(
        db: Database, store: MemoryStore) -> None:
    asked, answered, following = conversation(store)
    other = MemoryStore(db, "ana", HashEmbedder())
    theirs = other.add_many([MemoryDraft("moment", "Ana said: hi", context=ASKED)])[0]
    assert store.forget(asked.id) == 1
    assert store.get(answered.id).context == ""
    assert store.get(following.id).context == ANSWERED, "other contexts stay"
    assert store.text_search(["marguerite"], 10) == []
    assert recall_text(store, "Marguerite") == []
    assert all(s.memory.id != answered.id or s.bm25 == 0
               for s in recall(store, "Marguerite"))
    assert fts_hits(db, "marguerite") == [theirs.id], "another user's memory is theirs"
    assert other.get(theirs.id).context == ASKED


def test_editing_a_moment_keeps_its_context_and_the_next_one_quotes_the_correction(
        db: Database, store: MemoryStore) -> None:
    _, answered, following = conversation(store)
    corrected = store.edit(answered.id, "I said: She lives in Porto, by the sea.")
    assert corrected.context == ASKED
    assert store.get(following.id).context == corrected.content
    assert store.text_search(["lisbon"], 10) == []
    assert [m.id for m, _ in store.text_search(["porto"], 10)] == [corrected.id,
                                                                   following.id]
    assert fts_hits(db, "lisbon") == [answered.id], "only the superseded version's row"


# -- upgrading ------------------------------------------------------------------------------


def migrate_to(raw: sqlite3.Connection, migrations: Sequence[Callable[..., object]]) -> None:
    """A database as an older os1 left it: only ``migrations`` applied."""
    raw.execute("CREATE TABLE schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)")
    for version, migration in enumerate(migrations, start=1):
        migration(raw)
        raw.execute("INSERT INTO schema_migrations VALUES (?,?,?)",
                    (version, migration.__name__, time.time()))

def test_a_database_at_schema_version_2_upgrades_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "os1.db"
    raw = sqlite3.connect(path)
    migrate_to(raw, (m001_conversations, m002_setup))
    raw.execute("INSERT INTO sessions(user_id, client, started_at) VALUES ('local', 'cli', 1)")
    raw.execute("INSERT INTO messages(user_id, session_id, role, content, status, created_at)"
                " VALUES ('local', 1, 'user', 'I moved to Boston.', 'complete', 2)")
    raw.commit()
    raw.close()

    db = Database.open(path)
    try:
        assert db.schema_version() == len(MIGRATIONS)
        assert [m.content for m in ConversationLog(db, "local").all()] == ["I moved to Boston."]
        store = MemoryStore(db, "local", HashEmbedder())
        memory = store.add("fact", "Theo moved to Boston.", sources=[1])
        store.mark_processed(1)
        assert recall(store, "Boston")[0].memory == memory
    finally:
        db.close()
    again = Database.open(path)
    assert MemoryStore(again, "local", HashEmbedder()).processed_up_to() == 1
    again.close()


def test_a_database_at_schema_version_4_upgrades_with_its_memories_searchable(
        tmp_path: Path) -> None:
    """Memories stored before moments had a context keep their content and FTS entries;
    a moment's context is backfilled from the log (the moment before it in its session)."""
    path = tmp_path / "os1.db"
    raw = sqlite3.connect(path)
    migrate_to(raw, MIGRATIONS[:4])
    assert MIGRATIONS[2:4] == [m003_memories, m004_mind]
    for user, session in (("local", 1), ("local", 2), ("ana", 3)):
        raw.execute("INSERT INTO sessions(id, user_id, client, started_at) VALUES (?,?,'cli',1)",
                    (session, user))
    said = [("local", 1, ASKED), ("ana", 3, "Ana said: my brother Marguerite"),
            ("local", 1, ANSWERED), ("local", 2, NEXT)]
    for n, (user, session, text) in enumerate(said, start=1):
        raw.execute("INSERT INTO messages(id, user_id, session_id, role, content, status,"
                    " created_at) VALUES (?,?,?,'user',?,'complete',?)",
                    (n, user, session, text, n))
        raw.execute("INSERT INTO memories(id, user_id, kind, content, importance, created_at,"
                    " source_message_ids) VALUES (?,?,'moment',?,0.3,?,?)",
                    (n, user, text, n, f"[{n}]"))
    raw.execute("INSERT INTO memories(id, user_id, kind, content, importance, created_at)"
                " VALUES (5, 'local', 'fact', 'Theo likes jazz.', 0.5, 5)")
    raw.commit()
    raw.close()

    db = Database.open(path)
    try:
        assert db.schema_version() == len(MIGRATIONS)
        store = MemoryStore(db, "local", HashEmbedder())
        assert [(m.id, m.context) for m in store.get_many(range(1, 6))] == [
            (1, ""), (3, ASKED), (4, ""), (5, "")], "ana's moment is not local's context"
        assert MemoryStore(db, "ana", HashEmbedder()).get(2).context == ""
        assert [m.id for m, _ in store.text_search(["marguerite"], 10)] == [1, 3]
        assert [m.id for m, _ in store.text_search(["jazz"], 10)] == [5]
        assert recall(store, "Lisbon")[0].memory.id == 3
        assert store.forget(1) == 1 and store.get(3).context == ""
        assert [m.id for m, _ in store.text_search(["marguerite"], 10)] == []
    finally:
        db.close()
