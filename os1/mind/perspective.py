"""Who "I" is: when he asks about himself, she answers about him.

Asked "What do I do for a living?", the small model answers "I write letters for other
people at work": it mirrors his question from his side, so his job becomes hers. Telling
it who "I" is (her persona says so, and so did a note on every such turn) did not hold.
This is a check on grammar, not on phrases: his message asks a fact about himself (a
question word, then "do/did/am/was/have I", or "my" in it; "do you remember ... I"),
not for advice ("Should I...?", which she may well answer "I would..."), and her first
sentence opens with "I" or "my" in the sense of a statement about herself ("I write...",
"My mom's zip code is..."), not a mind's verb that may well open an answer about him
("I remember you said...", "I don't know", "I think..."). The guard asks again; on its
last try it turns her first sentence round: "I write letters" becomes "You write letters".

Nor does she make up his life: asked about himself, a first sentence with a name or a
number found nowhere in what she was told (his message, the conversation in her prompt,
her notes, his setup answers) is invented ("Your sister's name is Sarah.", "You're 35"),
and so is a plain claim about him with a word found there in no form ("You work as a
software engineer.", with his notes saying he writes letters), said outright or after a
mind's verb ("I remember you're a teacher.").
The guard asks again; on its last try she says honestly that he hasn't told her.

And where a note of hers answers him (told_me.py), she says it: a first sentence with
less than half of what the note tells beyond his question (two of its words at most) is
asked for again ("You write for a living." for "You write letters for other people at
work"; "I don't know" where she does), and on the last try she says the note to him.

Which verbs open an answer about him is data (``steering.toml`` ``[perspective]``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from os1.data import fill, read_toml
from os1.memory.embeddings import content_words, stem, words
from os1.memory.whose import lent_answer
from os1.mind.mood import feeling_words

ABOUT_HIMSELF = re.compile(str(read_toml("her_intents.toml")["about_himself"]), re.IGNORECASE)
SWAPS = {"i": "you", "i'm": "you're", "i've": "you've", "i'd": "you'd", "i'll": "you'll",
         "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "am": "are",
         "was": "were"}
PRONOUN = re.compile(r"\b(?:i'm|i've|i'd|i'll|i|me|my|mine|myself)\b|(?<=\bi )(?:am|was)\b",
                     re.IGNORECASE)


NUMBER = re.compile(r"\d+")
# An opening phrase before her first "I": "As a new kind of person, I..." ("As an AI, I...").
LEAD_IN = re.compile(r"(?:as|being|for)\b[^,.!?]{0,40},\s*")
NAME = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")


# A first sentence that states something about him: "You work...", "Your sister is...".
CLAIM = re.compile(r"\W*(?:well|so|oh|yes|yeah|of course|ah)?\W*(?:you|your)\b")
# "I remember/think (that)" before a claim about him: her mind's verb, then the claim
# ("I remember you're a teacher." was made up on CI's build of the model).
MIND_LEAD = re.compile(r"\W*(?:well|so|oh|yes|yeah|of course|ah)?\W*i\s+([a-z']+)\s+(?:that\s+)?"
                       r"(?=you\b|your\b)")
# Words that make a sentence doubt or deny instead of claiming.
DOUBT = re.compile(r"n't\b|\b(?:not|never|no|maybe|perhaps|might|if|whether|unless)\b")


def _forms(found: Collection[str]) -> set[str]:
    """Each word's stem and first five letters, so "writer" meets "write" and "letters"
    meets "letter"."""
    return {form for w in found for form in (stem(w), w[:5])}


def asks_about_himself(message: str) -> bool:
    """His message asks a fact about his own life ("What do I do?", "what's my...")."""
    return bool(ABOUT_HIMSELF.search(message.replace("\u2019", "'")))


# Words of a question about himself that say what kind of answer he wants, not what about.
# words of asking and greeting, which say nothing of what he asks about ("Good morning.
# What do I do?" matched "The bus was late again this morning")
ASKING = frozenset({"remind", "remember", "name", "called", "tell", "know", "think",
                    "morning", "evening", "night", "hello", "hey"})


def said_earlier(question: str, his_messages: Sequence[str]) -> str | None:
    """What he said earlier that his question about himself is about: the latest of his
    messages (no question itself) sharing the most words with it. In a window of twenty
    messages the small model answered "I don't know your sister's name" with "My sister
    Marguerite is visiting" in plain sight; quoted beside the question, it is used."""
    wanted = {w[:5] for w in content_words(question)} - {w[:5] for w in ASKING}
    best, best_shared = None, 0
    for said in his_messages:
        if said.rstrip().endswith("?"):
            continue
        shared = len(wanted & {w[:5] for w in content_words(said)})
        if shared and shared >= best_shared:
            best, best_shared = said, shared
    return best


@dataclass(frozen=True)
class Perspective:
    """Whether her reply to ``message`` mirrors it or makes up his life, and how to turn
    it round. ``known``: all she was told, lowercased; ``not_names``: capitalised words
    that are no names (steering.toml ``[addressing]``); ``honest``: what she says rather
    than make something up (persona.toml ``never_told``)."""

    asked_about_himself: bool
    minds: frozenset[str]
    not_names: frozenset[str]
    modifiers: frozenset[str] = frozenset()
    known: str = ""
    honest: str = ""
    his_own: frozenset[str] = frozenset()  # "my ex-wife" in his message: "ex-wife"
    plain: frozenset[str] = frozenset()
    answer: str = ""  # her note that answers him, said to him ("You write letters...")
    message: str = ""
    notes: tuple[str, ...] = ()  # her note lines, oldest first
    names: tuple[str, ...] = ()  # his name and hers: no one asked about
    not_theirs: str = ""  # persona.toml: her answer was about someone else

    def lent(self, first_sentence: str) -> str | None:
        """Asked a question about someone, her first sentence came from a note about
        someone else (memory/whose.py): what she says instead; None when it did not."""
        if "?" not in self.message or self.asked_about_himself:
            return None  # his own life: her notes are about him and those he names
        # a capitalised word opening a sentence is no one ("Quick question: what is my
        # cat called?" asked nothing of a "Quick")
        openers = tuple(re.findall(r"(?:^|[.!?:]\s+)([A-Z][a-z]+)", self.message))
        found = lent_answer(self.message, first_sentence, self.notes, (*self.names, *openers))
        return None if found is None else fill(self.not_theirs, asked=found[0],
                                                other=found[1])

    @classmethod
    def of(cls, message: str, minds: frozenset[str], not_names: frozenset[str],
           known: Collection[str] = (), honest: str = "",
           modifiers: frozenset[str] = frozenset(),
           plain: frozenset[str] = frozenset(), answer: str = "") -> Perspective:
        """``answer``: a note that answers his question, said to him; ``honest`` is then
        that note said to him rather than "you haven't told me"."""
        owned = frozenset(re.findall(r"\bmy\s+([a-z'-]+)", message.lower().replace("\u2019", "'")))
        return cls(asks_about_himself(message), minds, not_names, modifiers,
                   " ".join([message, *known]).lower(), honest, owned, plain, answer,
                   message)

    def invents(self, first_sentence: str) -> bool:
        """Her answer about him names a name or a number she was never told."""
        if not self.asked_about_himself:
            return False
        found = NUMBER.findall(first_sentence)
        for match in NAME.finditer(first_sentence):
            word = match.group(0)
            adverb = match.start() == 0 and word.endswith("ly")  # "Honestly," not "Emily"
            if word.lower() not in self.not_names and not adverb:
                found.append(word)
        if any(f.lower() not in self.known for f in found):
            return True
        return bool(self.unfounded(first_sentence))

    def unfounded(self, first_sentence: str) -> list[str]:
        """The words of a plain claim about him ("You work as a software engineer.") found
        nowhere in what she was told, in any form ("writer" is told by "write"); words
        that judge ("lovely") or state nothing (``plain``) aside. A sentence that doubts
        or denies ("You haven't told me") claims nothing."""
        lowered = first_sentence.lower().replace("\u2019", "'")
        if (lead := MIND_LEAD.match(lowered)) and lead.group(1) in self.minds:
            lowered = lowered[lead.end():]
        if not CLAIM.match(lowered) or DOUBT.search(lowered):
            return []
        told = _forms(words(self.known))
        ignored = self.plain | self.minds | self.modifiers | feeling_words()
        return [w for w in content_words(lowered)
                if len(w) > 2 and not w.isdigit() and w not in ignored
                and w not in SWAPS.values() and not _forms([w]) & told]

    def misses(self, first_sentence: str) -> bool:
        """A note answers him and her first sentence says too little of it: fewer than
        half of the note's telling words (those not in his question, nor plain), two at
        most. "You write for a living" says one of "write", "letters", "other"; "She
        lives in Lisbon" says enough of "Your sister Marguerite lives in Lisbon" for
        "Where does my sister live?" (one of "Marguerite", "Lisbon")."""
        if not self.asked_about_himself or not self.answer:
            return False
        asked = _forms(words(self.message))
        ignored = self.plain | self.minds | self.modifiers
        telling = {w for w in content_words(self.answer)
                   if len(w) > 2 and w not in ignored and w not in SWAPS.values()
                   and not _forms([w]) & asked}
        said = _forms(words(first_sentence))
        found = sum(1 for w in telling if _forms([w]) & said)
        return found < min(2, (len(telling) + 1) // 2)

    def mirrors(self, first_sentence: str) -> bool:
        """Her first sentence answers his question about himself as if about herself."""
        if not self.asked_about_himself:
            return False
        lowered = first_sentence.lower().replace("\u2019", "'")
        if any(re.search(rf"\bmy\s+{re.escape(w)}\b", lowered) for w in self.his_own):
            return True  # "The name of my ex-wife is...": his words, from his side
        words = re.findall(r"[a-z']+", lowered)
        if lead := LEAD_IN.match(lowered):  # "As a new kind of person, I don't have a job"
            words = re.findall(r"[a-z']+", lowered[lead.end():])
        if not words or words[0] not in ("i", "i'm", "i've", "i'd", "i'll", "my"):
            return False
        return words[0] == "my" or not self._a_mind_opens(words[1:])

    def _a_mind_opens(self, words: list[str]) -> bool:
        """"I don't know..." is her mind at work; "I don't have a job" is her own life:
        modifiers are passed over to the verb they qualify."""
        for at, word in enumerate(words):
            if word in self.minds or " ".join(words[at:at + 2]) in self.minds:
                return True
            if word not in self.modifiers:
                return False
        return True  # "I don't." qualifies nothing of hers

    def turned(self, first_sentence: str) -> str:
        """``first_sentence`` about him: her first-person words become his second."""
        if not self.mirrors(first_sentence):
            return first_sentence

        def swap(match: re.Match[str]) -> str:
            out = SWAPS[match.group(0).lower()]
            return out.capitalize() if match.start() == 0 else out

        turned = PRONOUN.sub(swap, first_sentence)
        return turned[:1].upper() + turned[1:]
