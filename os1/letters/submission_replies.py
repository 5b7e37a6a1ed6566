"""Whether a publisher he sent his letters to has answered: the submissions he sent (the
action log's done ones), each with the newest mail from that address in his synced mail
since it went.

Why only from the address it was sent to, matched whole: "penguin.example" in a From
line is not Penguin, and a stranger can't make a submission look answered by writing
from a look-alike address. A reply's words are never read here; the desk and the command
quote its sender and subject only, on one line (mail/quote.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from os1.letters.submission_send import KIND
from os1.mail.mailboxes import MailStore, StoredMail
from os1.storage.actions import ActionLog

CLOCK_SLACK_S = 60.0  # a reply's Date is its sender's clock, to the second
LOOKED_AT = 50
NEVER = 1e12  # no end to the window: any mail after the send


@dataclass(frozen=True)
class SentSubmission:
    action_id: int
    to: str
    title: str
    sent_at: float
    files: tuple[str, ...]
    reply: StoredMail | None  # the newest mail from ``to`` since it was sent
    replies: int


def sent_submissions(actions: ActionLog, store: MailStore,
                     limit: int = 50) -> list[SentSubmission]:
    """Newest first."""
    sent = [a for a in actions.recent(limit * 4, kind=KIND) if a.status == "done"][:limit]
    found = []
    for action in sent:
        to = str(action.detail["to"][0])
        at = float(action.detail.get("sent_at", action.updated_at))
        replies = replies_from(store, to, at)
        found.append(SentSubmission(action.id, to, str(action.detail.get("title", "")), at,
                                    tuple(str(f["name"]) for f in action.detail["files"]),
                                    replies[0] if replies else None, len(replies)))
    return found


def replies_from(store: MailStore, address: str, since: float) -> list[StoredMail]:
    """Mail from exactly ``address`` (any case) sent after ``since``, newest first."""
    near = store.search([], limit=LOOKED_AT, sender=address,
                        between=(since - CLOCK_SLACK_S, NEVER))
    wanted = address.strip().lower()
    return [item for item in near if item.mail.from_addr.strip().lower() == wanted]
