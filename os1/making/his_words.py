"""What he asked for, said back to him: "my father's funeral" becomes "your father's
funeral" before it reaches her prompt.

Asked to write a sentence about "a quiet, grieving tune about my father's funeral", the
1.5B model wrote "I felt a quiet, grieving tune about my father's funeral": his "my"
read as hers. Her prompt holds his words in the second person, and a "my" of hers before
what he called his ("my father's") is made "your" in what she says (the model turned the
prompt's "your" back). "We", "us" and "our" are theirs, and stay.
"""

from __future__ import annotations

import re

SWAPS = {"i": "you", "i'm": "you're", "i've": "you've", "i'd": "you'd", "i'll": "you'll",
         "me": "you", "my": "your", "mine": "yours", "myself": "yourself"}
FIRST_PERSON = re.compile(r"\b(?:i'm|i've|i'd|i'll|i|me|my|mine|myself)\b(?:\s+am\b)?",
                          re.IGNORECASE)


def to_him(text: str) -> str:
    """``text`` (his words) with his first person turned to the second ("I am" "you
    are"); other words as they were."""
    def swap(match: re.Match[str]) -> str:
        word, _, am = match.group(0).replace("\u2019", "'").partition(" ")
        out = SWAPS[word.lower()] + (" are" if am.strip() else "")
        return out.capitalize() if match.start() == 0 else out

    return FIRST_PERSON.sub(swap, text.replace("\u2019", "'"))


def his_things_as_his(sentence: str, about: str) -> str:
    """``sentence`` of hers with each "my" before a word he called his in ``about`` made
    "your": told "your father's funeral", the model still wrote "missing my father's
    funeral", so what he named as his is given back to him in what she says."""
    owned = {w.lower() for w in re.findall(r"\bmy\s+([\w'-]+)", about.replace("\u2019", "'"),
                                           re.IGNORECASE)}
    if not owned:
        return sentence

    def swap(match: re.Match[str]) -> str:
        if match.group(2).lower() not in owned:
            return match.group(0)
        return ("Your " if match.group(1) == "My" else "your ") + match.group(2)

    return re.sub(r"\b(my|My)\s+([\w'-]+)", swap, sentence.replace("\u2019", "'"))
