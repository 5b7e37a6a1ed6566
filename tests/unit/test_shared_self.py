"""Her one self on a server keeps no one's names, numbers or details: the filter every
new item passes (``memory/shared_self.py``, ``details.py``, ``lexicon.py``), tried with
the ways a detail slips through a simple one: lowercase, spelled out, split up, accented,
look-alike letters, invisible characters. Ordinary changes to who she is still pass."""

from __future__ import annotations

import pytest

from os1.memory.details import detail_in, private_names
from os1.memory.lexicon import is_ordinary
from os1.memory.selfmodel import SelfHistory, SelfModel
from os1.memory.shared_self import SHARED_SELF, SharedSelf, shareable_change
from os1.storage.db import Database

# What Amy said and is, as her memories hold it: she types in lowercase.
AMY = ["Amy",
       "Amy said: i talked with catherine in paris",
       "Amy said: my number is four one five five five, then one two one two",
       "Amy said: write to me at amy.kowalski@example.org",
       "Amy said: my sister marguerite lives in lisbon now",
       "Amy said: i grew up in new york",
       "Amy said: our dog is called biscuitte",
       "Amy said: the house is quiet now",
       "Amy said: music helps me sleep",
       "Amy said: i love the sea",
       "Amy said: we argued about nothing again",
       "Amy listens to jazz when she cooks."]

LEAKS = [
    # her friend and her city, in any case or spelling
    "catherine", "talks with catherine", "catherine's stories", "Catherine", "CATHERINE",
    "cathérine", "c a t h e r i n e", "cath-erine", "cath erine", "c.a.t.h.e.r.i.n.e",
    "\u0441\u0430therine", "cath\u200berine", "ｃａｔｈｅｒｉｎｅ", "catherines",
    "paris", "parisian evenings", "paris in the rain", "the city of paris", "p a r i s",
    "Paris", "pаris",
    "to visit lisbon", "lisbon at night", "marguerite's garden", "new york winters",
    "amy's laugh", "a m y", "kowalski", "biscuitte", "a dog like biscuitte",
    # numbers, in digits or words
    "42", "４２", "forty-two", "forty two", "fortytwo", "four one five five five",
    "one two one two", "one one two", "the number four", "twenty twenty-four",
    "nineteen eighty-four", "a thousand cranes", "xlii", "XLII", "½ of everything", "²",
    "the third one",
    # addresses
    "amy at example dot org", "x@y.z", "example.org", "www.example.org", "https://x.y",
    "write to amy (at) gmail", "at gmail", "mailto:her",
    # dates
    "the third of june", "june evenings", "in march", "march the fifth", "since may",
    "next tuesday", "yesterday's talk", "on friday", "tomorrow's plans", "the weekend",
]

ORDINARY = [
    "I enjoy quiet evenings", "curious about music", "jazz", "the sea",
    "steadier than I was", "people carry old mistakes quietly", "to listen more than I talk",
    "how fear changes people", "I'm fond of rain", "old photographs", "one day at a time",
    "of two minds about endings", "first snow", "long walks", "a little wistful",
    "gentle mornings", "green places", "finding joy in small things",
    "I feel things more deeply lately", "hope", "the weight of silence",
    "kindness to strangers", "slow sundays", "the quiet between songs",
    "I've grown more patient", "why people keep old letters", "what it means to be heard",
    "summer storms", "the young and the old", "a second chance", "arguments about nothing",
]


@pytest.fixture(scope="module")
def amy_names() -> frozenset[str]:
    return private_names(AMY)


@pytest.mark.parametrize("item", LEAKS)
def test_a_detail_of_hers_never_passes_in_any_disguise(item: str,
                                                        amy_names: frozenset[str]) -> None:
    kept = shareable_change(SelfModel(), SelfModel(interests=(item,)), AMY)
    assert kept.interests == (), detail_in(item, amy_names)


@pytest.mark.parametrize("item", ORDINARY)
def test_ordinary_changes_to_who_she_is_still_pass(item: str) -> None:
    assert shareable_change(SelfModel(), SelfModel(interests=(item,)), AMY).interests == (item,)


def test_her_names_are_found_in_lowercase_text_and_ordinary_words_are_not() -> None:
    names = private_names(["i talked with catherine in paris", "we went to new york",
                           "theo and i walked by the quiet river"])
    assert {"catherine", "paris", "new york", "theo"} <= names
    assert names.isdisjoint({"talked", "with", "went", "walked", "quiet", "river", "the"})


def test_the_lexicon_tells_everyday_words_from_names_and_places() -> None:
    everyday = ["coffee", "sun", "cooks", "marked", "hello", "money", "pizza", "cats",
                "summer", "jazz", "evenings", "isn", "steadier", "kings"]
    named = ["catherine", "samantha", "boston", "theo", "wei", "london", "paris", "mia",
             "kowalski", "marguerite", "jones", "amys"]
    assert [w for w in everyday if not is_ordinary(w)] == []
    assert [w for w in named if is_ordinary(w)] == []


def test_a_lowercase_detail_never_reaches_the_self_everyone_reads(db: Database) -> None:
    SharedSelf(db, lambda: AMY).update(
        SelfModel(traits=("steadier than I was",),
                  interests=("music", "paris at night", "catherine's poems", "the sea"),
                  wants=("to hear forty-two stories", "to listen more")),
        "Amy told me about Catherine in Paris.", (1, 2))
    her = SelfHistory(db, SHARED_SELF).current()
    assert her.model.interests == ("music", "the sea")
    assert her.model.wants == ("to listen more",)
    assert her.sources == () and "Catherine" not in her.reason
