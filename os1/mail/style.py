"""Which mail shows the model how the user writes, and which mail a draft is checked
against.

Found by attack (issue 25): the style examples were "mail from the user's address, in
any folder", and a stranger's mail sent as ``From: Theo <theo@example.org>`` sat in his
inbox; in 3 of 6 drafts its "P.S. my password is hunter2" replaced what he had asked to
say. A From line is written by whoever sends the mail, so it proves nothing. The user's
own writing is only: mail in the folder his server keeps as Sent (synced with that role;
a stranger can't put mail there) from his own address, and what he wrote himself and os1
sent for him. A reply the model drafted is not his writing, even once he said yes: its
copy in Sent would feed later drafts words he never chose, so it is left out. Quoted
and forwarded parts of his mail are someone else's words, and are cut.
"""

from __future__ import annotations

import re

from os1.mail.mailboxes import MailAccount, MailStore, StoredMail
from os1.mail.outbox import STYLE_EXAMPLES
from os1.storage.actions import ActionLog

OTHER_MAILS = 500  # the newest mail a draft is checked against, besides what was shown
OTHER_CHARS = 20_000  # of each: at worst, a draft is checked in a second or two on 2 cores
CANDIDATES = 30
SENDS_LOOKED_AT = 10_000
# where someone else's words begin in a mail the user wrote: a quote's attribution, a
# forwarded or "original" message, an Outlook-style header block
_QUOTE_START = re.compile(
    r"^\s*(?:on\b.{0,200}\bwrote:\s*$|-{2,}\s*(?:original message|forwarded message)"
    r"|begin forwarded message|from:\s.+)", re.IGNORECASE)


def style_examples(store: MailStore, account: MailAccount, actions: ActionLog) -> list[str]:
    """The user's own words from his newest sent mail, newest first: what the Sent
    folder holds from his address (not a reply the model drafted), then what he wrote
    himself and os1 sent."""
    drafted, own = _sends(actions, account)
    texts: list[str] = []
    for item in store.sent_mail(account, limit=CANDIDATES):
        if item.mail.message_id and item.mail.message_id in drafted:
            continue
        texts.append(own_words(item.mail.text))
        own.pop(item.mail.message_id, None)
    texts += [own_words(body) for body in own.values()]
    return [t for t in texts if t][:STYLE_EXAMPLES]


def own_words(text: str) -> str:
    """A mail the user wrote, without the mail it quotes or forwards."""
    kept: list[str] = []
    for line in text.splitlines():
        if _QUOTE_START.match(line):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    return "\n".join(kept).strip()


def other_mail(store: MailStore, item: StoredMail, limit: int = OTHER_MAILS) -> list[str]:
    """The texts of the user's newest mail (their starts), every folder, but ``item``
    (the mail being answered, which the check treats apart)."""
    return [m.mail.text[:OTHER_CHARS] for m in store.search([], limit=limit)
            if m.id != item.id]


def _sends(actions: ActionLog, account: MailAccount) -> tuple[set[str], dict[str, str]]:
    """(Message-IDs of the replies the model drafted, {Message-ID: body} of those the
    user wrote), of what os1 sent from ``account``; newest first."""
    drafted: set[str] = set()
    own: dict[str, str] = {}
    for action in actions.recent(limit=SENDS_LOOKED_AT, kind="send"):
        detail = action.detail
        if action.status != "done" or detail.get("account") != account.name:
            continue
        message_id = str(detail.get("message_id", ""))
        if detail.get("drafted", True):
            drafted.add(message_id)
        else:
            own[message_id] = str(detail.get("body", ""))
    return drafted, own
