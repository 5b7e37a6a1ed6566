"""Who writes to him that he knows, from his own mailbox: the people he has written to
(his Sent mail) and the senders of mail he sorted himself as anything but spam.

Why this is not left to the classifier: a newsletter he signed up for reads like spam
(that is what makes it hard ham), and a classifier that has seen a thousand shop
mails cannot tell his shop from a stranger's; his mailbox can. A known sender's mail is
never called spam, and it comes before strangers' mail when she tells him what is new.
Only exact addresses count: a whole domain would vouch for every spammer who uses the
same mail provider, and mail from his own address vouches for nothing (spammers forge
it). A mailing list he reads vouches for nothing either: spam reaches lists too
(BENCHMARKS.md section 6 measures both).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from os1.mail.parse import ParsedMail

NOT_SPAM = ("personal", "work", "newsletter")


@dataclass(frozen=True)
class Known:
    """``people``: addresses he has written to; ``kept``: senders of mail he sorted as
    not spam; ``spam``: senders of mail he sorted as spam (a sender he has called a
    spammer is vouched for by nothing); ``own``: his own addresses. All lower case."""

    people: frozenset[str] = frozenset()
    kept: frozenset[str] = frozenset()
    spam: frozenset[str] = frozenset()
    own: frozenset[str] = frozenset()

    @classmethod
    def of(cls, own: Iterable[str], written_to: Iterable[str],
           corrections: Sequence[tuple[ParsedMail, str]] = ()) -> Known:
        """From his own addresses, the addresses his sent mail went to, and his
        (mail, category) corrections."""
        mine = frozenset(_address(a) for a in own) - {""}
        return cls(people=frozenset(_address(a) for a in written_to) - mine - {""},
                   kept=frozenset(_address(m.from_addr) for m, c in corrections
                                  if c in NOT_SPAM) - mine - {""},
                   spam=frozenset(_address(m.from_addr) for m, c in corrections
                                  if c == "spam") - {""},
                   own=mine)

    def vouches_for(self, mail: ParsedMail) -> bool:
        """Whether the sender is someone he knows: written to, or kept, and never
        called spam by him."""
        sender = _address(mail.from_addr)
        return bool(sender) and sender not in self.spam and sender not in self.own and \
            (sender in self.people or sender in self.kept)

    def from_himself(self, mail: ParsedMail) -> bool:
        return _address(mail.from_addr) in self.own


def _address(text: str) -> str:
    return text.strip().strip("<>").lower()
