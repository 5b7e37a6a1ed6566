"""What he said that a memory about him may rest on, and whether a memory does.

After one ordinary evening her memories held "Theodore states: "Should I sign the
papers?"", "Theodore states that he is easy to talk to" (he had told her *she* was) and
"Theodore likes to sign divorce papers" (he did not know whether to sign). The small
model writes such notes from any sentence it is shown, so the check is made on what it
was shown, sentence by sentence: a question, a greeting or a goodbye states nothing; a
sentence whose first person is "you" is about her, not him; and a note must keep the
"not" and the "whether" of the sentence it comes from, and say he likes something only
where he said so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from os1.memory.embeddings import content_words

SENTENCE = re.compile(r"[^.!?…;\n]+[.!?…;]*")
# Where one sentence holds two statements: "I still feel married and I don't know...".
CLAUSE = re.compile(r",?\s+(?:and|but|so|because|though)\s+(?=(?:i|i'm|we|he|she|they|my)\b)",
                    re.IGNORECASE)
PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|me|my|mine|we|we're|our|us|you|you're|you've"
                    r"|you'd|you'll|your|yours)\b", re.IGNORECASE)
# A "you" that addresses no one in particular.
ASIDE = re.compile(r"\b(?:you know|you see|thank you|mind you|if you ask me|as you know)\b,?",
                   re.IGNORECASE)
# Words that make a sentence say something is not so, or not known to be.
DOUBT = re.compile(r"\b(?:not|never|no|nobody|nothing|neither|nor|whether|maybe|perhaps"
                   r"|might|unsure|undecided|if)\b|n't\b", re.IGNORECASE)
# Words of liking or disliking: a note may say he likes something only where he said so.
LIKING = re.compile(r"\b(?:likes?|liked|liking|loves?|loved|loving|enjoys?|enjoyed|enjoying"
                    r"|hates?|hated|dislikes?|prefers?|preferred|favou?rite|adores?|fond"
                    r"|can't stand|cannot stand|into)\b", re.IGNORECASE)
# A sentence of only these words greets, thanks or takes leave: it states nothing.
_PLEASANTRIES_TEXT = """hi hello hey hiya morning good night goodnight evening afternoon bye
goodbye later see soon thanks thank much ok okay yes yeah yep no nope sure well sleep tight
sweet dreams talk tomorrow cheers oh ah hmm um lol haha love xx dear it you too a to the
all very so for my i we
gotta gtg ttyl got go run have good one day take care catch nice chat chatting talking must
now off i'm i've"""  # the second part takes leave ("Gotta run, bye!", "Have a good one!")
PLEASANTRIES = frozenset(_PLEASANTRIES_TEXT.split())


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE.findall(" ".join(text.split())) if s.strip()]


def states_something(sentence: str) -> bool:
    """Not a question, and not only a greeting, thanks or goodbye."""
    return not sentence.rstrip().endswith("?") and not _only_pleasantries(sentence)


def without_pleasantries(text: str) -> str:
    """``text`` without its sentences of only greeting, thanks or goodbye ("Good morning.
    What do I do for a living?" searched her memory for "good" and "morning" and found
    "The bus was late again this morning"); all of it when nothing else is left."""
    kept = [s for s in sentences(text) if not _only_pleasantries(s)]
    return " ".join(kept) if kept else text


def _only_pleasantries(sentence: str) -> bool:
    said = [w.strip("'") for w in re.findall(r"[a-z']+", sentence.lower())]
    return all(w in PLEASANTRIES for w in said)


def about_her(sentence: str) -> bool:
    """Its first person is "you": "You're easy to talk to" tells her about herself ("you
    know" and "thank you" aside: "You know, my sister lives in Lisbon" is about him)."""
    first = PERSON.search(ASIDE.sub(" ", sentence))
    return first is not None and first.group(1).lower().startswith(("you", "your"))


def his_statements(messages: Sequence[str]) -> list[str]:
    """The clauses of his messages that state something about him or his world."""
    return [c.strip() for m in messages for s in sentences(m)
            if states_something(s) and not about_her(s) for c in CLAUSE.split(s) if c.strip()]


def keeps_stance(note: str, said: Sequence[str]) -> bool:
    """The note says "not" or "whether" where the clause it rests on does, and not where
    it doesn't ("doesn't know whether to sign" is no "likes to sign"); and it says he
    likes or hates something only where that clause says so ("Catherine wants me to sign
    the papers" is no "Theo likes signing divorce papers")."""
    wanted = {w[:5] for w in content_words(note)}
    best, shared = None, 0
    for sentence in said:
        overlap = len(wanted & {w[:5] for w in content_words(sentence)})
        if overlap > shared:
            best, shared = sentence, overlap
    if best is None:
        return True
    if LIKING.search(note) and not LIKING.search(best):
        return False
    return bool(DOUBT.search(note)) == bool(DOUBT.search(best))
