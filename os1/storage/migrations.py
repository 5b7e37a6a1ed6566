"""Schema migrations, applied in order and recorded in ``schema_migrations``.

Append new functions at the end; never edit one that has shipped. Every table that holds
something of a person's carries ``user_id`` so that isolation lives in storage.
"""

from __future__ import annotations

from os1.storage.db import Connection, Migration
from os1.storage.migrations_letters import m015_letters
from os1.storage.migrations_life import m017_life
from os1.storage.migrations_making import m016_making


def m001_conversations(db: Connection) -> None:
    db.execute(
        "CREATE TABLE sessions ("
        " id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, client TEXT NOT NULL,"
        " started_at REAL NOT NULL)"
    )
    db.execute(
        "CREATE TABLE messages ("
        " id INTEGER PRIMARY KEY, user_id TEXT NOT NULL,"
        " session_id INTEGER NOT NULL REFERENCES sessions(id),"
        " role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),"
        " content TEXT NOT NULL,"
        " status TEXT NOT NULL CHECK (status IN ('complete', 'interrupted', 'failed')),"
        " created_at REAL NOT NULL)"
    )
    db.execute("CREATE INDEX messages_by_user ON messages(user_id, id)")


def m002_setup(db: Connection) -> None:
    db.execute(
        "CREATE TABLE setups ("
        " id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, created_at REAL NOT NULL,"
        " user_name TEXT NOT NULL, answers_json TEXT NOT NULL, voice TEXT NOT NULL,"
        " companion_name TEXT NOT NULL, name_reason TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX setups_by_user ON setups(user_id, id)")


def m003_memories(db: Connection) -> None:
    """Her long-term memory. Rows are never rewritten in place: a correction or a newer
    fact is a new row that supersedes the old one, so she can tell how things changed.
    ``memories_fts`` indexes the content for BM25 (external content, kept in sync by
    triggers); ``embedding`` holds a float32 little-endian vector for semantic recall."""
    # "Forget that" blanks a message in the log (its text must not come back into her
    # context); the row stays so ids and the shape of the conversation do.
    db.execute("ALTER TABLE messages ADD COLUMN forgotten_at REAL")
    kinds = ("'moment', 'fact', 'event', 'preference', 'feeling', 'promise', 'person',"
             " 'insight', 'self'")
    db.execute(
        "CREATE TABLE memories ("
        " id INTEGER PRIMARY KEY, user_id TEXT NOT NULL,"
        f" kind TEXT NOT NULL CHECK (kind IN ({kinds})),"
        " content TEXT NOT NULL, subject TEXT NOT NULL DEFAULT '',"
        " importance REAL NOT NULL CHECK (importance BETWEEN 0 AND 1),"
        " created_at REAL NOT NULL, event_at REAL,"
        " source_message_ids TEXT NOT NULL DEFAULT '[]',"
        " superseded_by INTEGER REFERENCES memories(id), superseded_at REAL,"
        " embedding BLOB, embedding_model TEXT)"
    )
    db.execute("CREATE INDEX memories_active ON memories(user_id, superseded_by)")
    db.execute("CREATE INDEX memories_by_subject ON memories(user_id, subject)")
    db.execute(
        "CREATE INDEX memories_by_time ON memories(user_id, COALESCE(event_at, created_at))")
    # Foreign-key checks on delete look rows up by the referencing column alone.
    db.execute("CREATE INDEX memories_superseded_by ON memories(superseded_by)")
    db.execute(
        "CREATE VIRTUAL TABLE memories_fts USING fts5("
        " content, content='memories', content_rowid='id', tokenize='porter unicode61')"
    )
    db.execute(
        "CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN"
        " INSERT INTO memories_fts(rowid, content) VALUES (new.id, new.content); END"
    )
    db.execute(
        "CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN"
        " INSERT INTO memories_fts(memories_fts, rowid, content)"
        " VALUES ('delete', old.id, old.content); END"
    )
    db.execute(
        "CREATE TRIGGER memories_fts_update AFTER UPDATE OF content ON memories BEGIN"
        " INSERT INTO memories_fts(memories_fts, rowid, content)"
        " VALUES ('delete', old.id, old.content);"
        " INSERT INTO memories_fts(rowid, content) VALUES (new.id, new.content); END"
    )
    db.execute(
        "CREATE TABLE memory_links ("
        " user_id TEXT NOT NULL,"
        " memory_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,"
        " source_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,"
        " PRIMARY KEY (memory_id, source_id))"
    )
    db.execute("CREATE INDEX memory_links_by_source ON memory_links(source_id)")  # likewise
    db.execute(
        "CREATE TABLE memory_events ("
        " id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, memory_id INTEGER NOT NULL,"
        " action TEXT NOT NULL"
        " CHECK (action IN ('created', 'superseded', 'edited', 'forgotten')),"
        " at REAL NOT NULL, detail TEXT)"
    )
    db.execute("CREATE INDEX memory_events_by_memory ON memory_events(user_id, memory_id)")
    # How far the background worker got: messages stored as moments, messages whose
    # memories were extracted, and the newest memory the last reflection considered.
    db.execute(
        "CREATE TABLE memory_progress ("
        " user_id TEXT PRIMARY KEY, last_message_id INTEGER NOT NULL DEFAULT 0,"
        " last_moment_id INTEGER NOT NULL DEFAULT 0,"
        " last_reflected_id INTEGER NOT NULL DEFAULT 0)"
    )


def m004_mind(db: Connection) -> None:
    """Her mood and her self-model, per person: she is a different friend to each, and
    how one relationship went never leaks into another."""
    db.execute(
        "CREATE TABLE moods ("
        " user_id TEXT PRIMARY KEY, valence REAL NOT NULL, arousal REAL NOT NULL,"
        " updated_at REAL NOT NULL)"
    )
    db.execute(
        "CREATE TABLE mood_events ("
        " id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, at REAL NOT NULL,"
        " message_id INTEGER, valence REAL NOT NULL, arousal REAL NOT NULL,"
        " hurtful INTEGER NOT NULL DEFAULT 0, cause TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX mood_events_by_user ON mood_events(user_id, id)")
    db.execute(
        "CREATE TABLE self_versions ("
        " id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, created_at REAL NOT NULL,"
        " model_json TEXT NOT NULL, reason TEXT NOT NULL,"
        " source_ids TEXT NOT NULL DEFAULT '[]')"
    )
    db.execute("CREATE INDEX self_versions_by_user ON self_versions(user_id, id)")


def m005_memory_context(db: Connection) -> None:
    """A moment's ``context``: the moment said just before it in the same session (the
    same user's, as everything here), or '' for a session's first. It is indexed as a
    second FTS column (weighted below the content in ``text_search``) so "Boston" finds the
    answer that followed the question naming it; ``content`` stays the turn alone.

    Existing moments are backfilled from the message log (the active moment of the latest
    earlier message of the same session), then the index is rebuilt from the table."""
    db.execute("ALTER TABLE memories ADD COLUMN context TEXT NOT NULL DEFAULT ''")
    db.execute(
        "CREATE TEMP TABLE moment_source AS"
        " SELECT m.id AS memory_id, m.user_id AS user_id, msg.id AS message_id,"
        " msg.session_id AS session_id"
        " FROM memories AS m JOIN messages AS msg"
        " ON msg.id = json_extract(m.source_message_ids, '$[0]') AND msg.user_id = m.user_id"
        " WHERE m.kind = 'moment' AND m.superseded_by IS NULL"
        " AND json_array_length(m.source_message_ids) = 1")
    db.execute("CREATE INDEX temp.moment_source_by_session"
               " ON moment_source(user_id, session_id, message_id)")
    db.execute(
        "UPDATE memories SET context = COALESCE((SELECT prev.content"
        " FROM moment_source AS cur JOIN moment_source AS before"
        " ON before.user_id = cur.user_id AND before.session_id = cur.session_id"
        " AND before.message_id < cur.message_id"
        " JOIN memories AS prev ON prev.id = before.memory_id"
        " WHERE cur.memory_id = memories.id"
        " ORDER BY before.message_id DESC LIMIT 1), '')"
        " WHERE id IN (SELECT memory_id FROM moment_source)")
    db.execute("DROP TABLE temp.moment_source")
    for trigger in ("insert", "delete", "update"):
        db.execute(f"DROP TRIGGER memories_fts_{trigger}")
    db.execute("DROP TABLE memories_fts")
    db.execute(
        "CREATE VIRTUAL TABLE memories_fts USING fts5("
        " content, context, content='memories', content_rowid='id',"
        " tokenize='porter unicode61')"
    )
    db.execute(
        "CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN"
        " INSERT INTO memories_fts(rowid, content, context)"
        " VALUES (new.id, new.content, new.context); END"
    )
    db.execute(
        "CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN"
        " INSERT INTO memories_fts(memories_fts, rowid, content, context)"
        " VALUES ('delete', old.id, old.content, old.context); END"
    )
    db.execute(
        "CREATE TRIGGER memories_fts_update AFTER UPDATE OF content, context ON memories BEGIN"
        " INSERT INTO memories_fts(memories_fts, rowid, content, context)"
        " VALUES ('delete', old.id, old.content, old.context);"
        " INSERT INTO memories_fts(rowid, content, context)"
        " VALUES (new.id, new.content, new.context); END"
    )
    db.execute("INSERT INTO memories_fts(memories_fts) VALUES ('rebuild')")


def m006_accounts(db: Connection) -> None:
    """People who talk with her through ``os1 serve``. Their data lives under
    ``user_id = 'account:<id>'``, the same user scoping as everything else. Passwords are
    stored only as argon2 hashes, session tokens and invitation codes only as SHA-256
    digests: a copy of the database opens no one's account."""
    db.execute(
        "CREATE TABLE accounts ("
        " id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
        " display_name TEXT NOT NULL, password_hash TEXT NOT NULL, created_at REAL NOT NULL)"
    )
    db.execute(
        "CREATE TABLE account_tokens ("
        " digest TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),"
        " created_at REAL NOT NULL, expires_at REAL NOT NULL, revoked_at REAL)"
    )
    db.execute("CREATE INDEX account_tokens_by_account ON account_tokens(account_id)")
    db.execute(
        "CREATE TABLE invitations ("
        " digest TEXT PRIMARY KEY, created_at REAL NOT NULL,"
        " used_by INTEGER REFERENCES accounts(id), used_at REAL)"
    )


def m007_memory_claims(db: Connection) -> None:
    """Which server worker is writing a person's memories, until when: several
    ``os1 serve`` workers share one database, and two writing the same person's memories
    at once would store every moment twice. A claim past ``until`` (a worker that died) is
    free for the taking."""
    db.execute(
        "CREATE TABLE memory_claims (user_id TEXT PRIMARY KEY, holder TEXT NOT NULL,"
        " until DOUBLE PRECISION NOT NULL)")


def mail_schema(id_column: str, time_type: str) -> list[str]:
    """The mail tables in either dialect (``id_column``: how an auto-numbered id is
    spelt). Passwords are never here (``storage/secrets.py``). A message is one per
    (account, folder, UIDVALIDITY, UID), so a sync that is cut off and run again stores
    nothing twice. ``category`` is how she sorted it, ``sorted_by`` who decided (a user's
    correction is never overwritten), ``told`` whether she has told the user about it."""
    return [
        f"CREATE TABLE mail_accounts ({id_column}, user_id TEXT NOT NULL, name TEXT NOT NULL,"
        " address TEXT NOT NULL, login TEXT NOT NULL,"
        " imap_host TEXT NOT NULL, imap_port INTEGER NOT NULL, imap_security TEXT NOT NULL"
        " CHECK (imap_security IN ('tls', 'starttls', 'none')),"
        " smtp_host TEXT NOT NULL, smtp_port INTEGER NOT NULL, smtp_security TEXT NOT NULL"
        " CHECK (smtp_security IN ('tls', 'starttls', 'none')),"
        f" created_at {time_type} NOT NULL, UNIQUE (user_id, name))",
        "CREATE TABLE mail_folders (user_id TEXT NOT NULL,"
        " account_id BIGINT NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,"
        " folder TEXT NOT NULL, uidvalidity BIGINT NOT NULL, last_uid BIGINT NOT NULL,"
        f" synced_at {time_type} NOT NULL, PRIMARY KEY (account_id, folder))",
        f"CREATE TABLE mail_messages ({id_column}, user_id TEXT NOT NULL,"
        " account_id BIGINT NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,"
        " folder TEXT NOT NULL, uidvalidity BIGINT NOT NULL, uid BIGINT NOT NULL,"
        " message_id TEXT NOT NULL, from_name TEXT NOT NULL, from_addr TEXT NOT NULL,"
        " to_addrs TEXT NOT NULL, cc_addrs TEXT NOT NULL, subject TEXT NOT NULL,"
        f" sent_at {time_type}, body TEXT NOT NULL, attachments TEXT NOT NULL,"
        f" size BIGINT NOT NULL, stored_at {time_type} NOT NULL,"
        " signals TEXT NOT NULL DEFAULT '[]',"
        " category TEXT NOT NULL DEFAULT 'personal'"
        " CHECK (category IN ('personal', 'work', 'newsletter', 'spam')),"
        " sorted_by TEXT NOT NULL DEFAULT 'rules'"
        " CHECK (sorted_by IN ('rules', 'learned', 'you')),"
        f" priority {time_type} NOT NULL DEFAULT 0.5, told INTEGER NOT NULL DEFAULT 0,"
        " UNIQUE (account_id, folder, uidvalidity, uid))",
        "CREATE INDEX mail_messages_by_user ON mail_messages(user_id, sent_at)",
    ]


def m008_mail(db: Connection) -> None:
    for statement in mail_schema("id INTEGER PRIMARY KEY", "REAL"):
        db.execute(statement)


def actions_schema(id_column: str, time_type: str) -> list[str]:
    """Every action with side effects outside os1 (a mail sent or moved to Trash, an
    event created), from the moment she proposes it: ``status`` goes proposed ->
    done (or failed, or declined), and done -> undone for what can be undone. ``detail``
    is JSON: what exactly was confirmed (recipients, text, message ids), so the log
    shows what the user said yes to and undo knows what to put back."""
    return [
        f"CREATE TABLE actions ({id_column}, user_id TEXT NOT NULL, kind TEXT NOT NULL,"
        " summary TEXT NOT NULL, detail TEXT NOT NULL, status TEXT NOT NULL"
        " CHECK (status IN ('proposed', 'done', 'failed', 'declined', 'undone')),"
        f" error TEXT NOT NULL DEFAULT '', created_at {time_type} NOT NULL,"
        f" updated_at {time_type} NOT NULL)",
        "CREATE INDEX actions_by_user ON actions(user_id, id)",
    ]


def m009_actions(db: Connection) -> None:
    for statement in actions_schema("id INTEGER PRIMARY KEY", "REAL"):
        db.execute(statement)


def calendar_schema(id_column: str, time_type: str) -> list[str]:
    """The user's calendars: ``calendar_sources`` (a CalDAV calendar, an imported .ics
    file, or 'local' for events she keeps herself; no password, ever), the events synced
    or imported from them (one row per occurrence, so recurring events are expanded and
    ``starts_at`` with ``uid`` names one), and reminders, each said once: ``said_at`` is set
    by the one check that claims it. A reminder names its event by (uid, starts_at), so
    re-syncing the same events leaves delivered reminders delivered."""
    return [
        f"CREATE TABLE calendar_sources ({id_column}, user_id TEXT NOT NULL,"
        " name TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('caldav', 'ics', 'local')),"
        " url TEXT NOT NULL DEFAULT '', username TEXT NOT NULL DEFAULT '',"
        f" created_at {time_type} NOT NULL, synced_at {time_type}, UNIQUE (user_id, name))",
        f"CREATE TABLE calendar_events ({id_column}, user_id TEXT NOT NULL,"
        " source_id BIGINT NOT NULL REFERENCES calendar_sources(id) ON DELETE CASCADE,"
        f" uid TEXT NOT NULL, starts_at {time_type} NOT NULL, ends_at {time_type} NOT NULL,"
        " all_day INTEGER NOT NULL DEFAULT 0, title TEXT NOT NULL,"
        " location TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',"
        " UNIQUE (source_id, uid, starts_at))",
        "CREATE INDEX calendar_events_by_user ON calendar_events(user_id, starts_at)",
        f"CREATE TABLE calendar_reminders ({id_column}, user_id TEXT NOT NULL,"
        " source_id BIGINT NOT NULL REFERENCES calendar_sources(id) ON DELETE CASCADE,"
        f" uid TEXT NOT NULL, starts_at {time_type} NOT NULL, title TEXT NOT NULL,"
        f" due_at {time_type} NOT NULL, said_at {time_type},"
        " missed INTEGER NOT NULL DEFAULT 0, UNIQUE (source_id, uid, starts_at, due_at))",
        "CREATE INDEX calendar_reminders_due ON calendar_reminders(user_id, said_at, due_at)",
    ]


def m010_calendar(db: Connection) -> None:
    for statement in calendar_schema("id INTEGER PRIMARY KEY", "REAL"):
        db.execute(statement)


def login_failures_schema(time_type: str) -> list[str]:
    """Wrong passwords per username, for os1/server/login_guard.py (kept 15 minutes)."""
    return [f"CREATE TABLE login_failures (username TEXT NOT NULL, at {time_type} NOT NULL)",
            "CREATE INDEX login_failures_by_name ON login_failures(username, at)"]


def m011_login_failures(db: Connection) -> None:
    for statement in login_failures_schema("REAL"):
        db.execute(statement)


def m012_mail_folder_roles(db: Connection) -> None:
    """What a synced folder is to the user's server: 'sent' for the folder it keeps as
    Sent, '' for any other. Only mail there, from the user's own address, shows the
    model how the user writes (mail/style.py): a From line is written by whoever sends
    the mail, and a stranger's mail "from" the user sat in the inbox (issue 25). Same
    SQL on PostgreSQL."""
    db.execute("ALTER TABLE mail_folders ADD COLUMN role TEXT NOT NULL DEFAULT ''")


def m013_message_client_ids(db: Connection) -> None:
    """The key a client sent a message under (os1 serve's ``client_id``), so a message
    sent again after a dropped connection is recognised instead of stored twice (issue
    25). Unique per person; NULL (no key) never clashes. Same SQL on PostgreSQL."""
    db.execute("ALTER TABLE messages ADD COLUMN client_id TEXT")
    db.execute("CREATE UNIQUE INDEX messages_by_client_id ON messages(user_id, client_id)")


def artefacts_schema(id_column: str, time_type: str) -> list[str]:
    """Things her skills make for a person (a letter, a drawing): the file is under the
    person's own folder in the data dir (``storage/artefacts.py``), ``path`` relative to
    it, so the row and the file move with the data dir."""
    return [
        f"CREATE TABLE artefacts ({id_column}, user_id TEXT NOT NULL, skill TEXT NOT NULL,"
        " kind TEXT NOT NULL, title TEXT NOT NULL, path TEXT NOT NULL,"
        f" created_at {time_type} NOT NULL, UNIQUE (user_id, path))",
        "CREATE INDEX artefacts_by_user ON artefacts(user_id, id)",
    ]


def m014_artefacts(db: Connection) -> None:
    for statement in artefacts_schema("id INTEGER PRIMARY KEY", "REAL"):
        db.execute(statement)


MIGRATIONS: list[Migration] = [m001_conversations, m002_setup, m003_memories, m004_mind,
                               m005_memory_context, m006_accounts, m007_memory_claims,
                               m008_mail, m009_actions, m010_calendar,
                               m011_login_failures, m012_mail_folder_roles,
                               m013_message_client_ids, m014_artefacts,
                               m015_letters, m016_making, m017_life]
