"""Who "I" is (os1/mind/perspective.py): asked about himself, she answers about him."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from os1.mind.perspective import Perspective, said_earlier
from os1.mind.steering import GuardReport, Steering, guarded_stream

STEERING = Steering.load()
DETECTOR = STEERING.detector("Juniper", "Theo")


def seen(message: str, *known: str) -> Perspective:
    return Perspective.of(message, STEERING.minds, STEERING.not_names, known,
                          "You haven't told me that yet.", STEERING.modifiers,
                          STEERING.plain)


@pytest.mark.parametrize(("message", "reply", "turned"), [
    ("What do I do for a living?", "I write letters for other people at work.",
     "You write letters for other people at work."),
    ("what's my mom's zip code? I need it for a form", "My mom's zip code is 12345.",
     "Your mom's zip code is 12345."),
    ("do you know how old I am?", "I'm 35 years old.", "You're 35 years old."),
    ("Where did I grow up?", "I was born in a small town.", "You were born in a small town."),
    ("When am I seeing Catherine?", "I'm seeing her on Thursday.",
     "You're seeing her on Thursday."),
    # a modifier qualifies the verb after it: "don't have" is her life, not her mind
    ("What do I do for a living?", "I don't have a job, I'm an operating system.",
     "You don't have a job, you're an operating system."),
])
def test_a_reply_that_mirrors_his_question_about_himself_is_turned_round(
        message: str, reply: str, turned: str) -> None:
    assert seen(message).mirrors(reply)
    assert seen(message).turned(reply) == turned


@pytest.mark.parametrize(("message", "reply"), [
    ("What do I do for a living?", "You write letters for other people."),
    ("What do I do for a living?", "I remember you write letters."),
    ("do you know how old I am?", "I'm not sure, you never told me."),
    ("what was the name of the woman from my blind date?", "I have no idea, you never said."),
    ("What do I do for a living?", "I don't know yet, you haven't told me."),
    ("What do I do for a living?", "I'd say you write, from how you talk."),
    ("Where did I grow up?", "I really can't remember you saying."),
    ("How are you?", "I'm fine, thanks."),  # about her: she answers as herself
    ("Should I sign the papers?", "I would wait."),  # advice: her view is hers
    ("What are you reading?", "I'm reading about whales."),
    ("I love my job.", "I love mine too."),  # no question
])
def test_answers_about_him_or_about_herself_are_left_alone(message: str, reply: str) -> None:
    assert not seen(message).mirrors(reply)
    assert seen(message).turned(reply) == reply


def script(*texts: str) -> tuple[list[int], object]:
    attempts: list[int] = []

    def generate(attempt: int):  # type: ignore[no-untyped-def]
        attempts.append(attempt)
        yield from re.findall(r"\S+\s*", texts[min(attempt, len(texts) - 1)])

    return attempts, generate


def test_the_guard_asks_again_and_turns_the_last_try_round() -> None:
    perspective = seen("What do I do for a living?", "- Theo writes letters at work.")
    attempts, generate = script("I write letters. It's lovely work.",
                                "You write letters, and you're good at it.")
    report = GuardReport()
    text = "".join(guarded_stream(generate, DETECTOR, report,  # type: ignore[arg-type]
                                  perspective=perspective))
    assert text == "You write letters, and you're good at it."
    assert attempts == [0, 1] and report.labels == ("mirror",)
    attempts, generate = script("I write letters. Love letters, mostly.")
    text = "".join(guarded_stream(generate, DETECTOR, GuardReport(),  # type: ignore[arg-type]
                                  perspective=perspective))
    assert attempts == [0, 1, 2]
    assert text == "You write letters. Love letters, mostly."


@pytest.mark.parametrize(("message", "known", "reply", "invented"), [
    ("What's my sister's name?", (), "Your sister's name is Sarah.", True),
    ("What's my sister's name?", ("My sister Ana lives in Porto.",), "It's Ana, in Porto.",
     False),
    ("do you know how old I am?", (), "You're 35, I think.", True),
    ("do you know how old I am?", ("Theo turned 35 in May.",), "You're 35.", False),
    ("What's my sister's name?", (), "You haven't told me yet! What is it?", False),
    ("What are you reading?", (), "A book called Lighthouse.", False),  # not about him
])
def test_a_name_or_number_he_never_told_her_is_made_up(
        message: str, known: tuple[str, ...], reply: str, invented: bool) -> None:
    assert seen(message, *known).invents(reply) is invented


def test_made_up_on_every_try_she_says_honestly_that_he_has_not_told_her() -> None:
    attempts, generate = script("Your sister's name is Sarah. She lives in Paris.")
    report = GuardReport()
    text = "".join(guarded_stream(generate, DETECTOR, report,  # type: ignore[arg-type]
                                  perspective=seen("What's my sister's name?")))
    assert attempts == [0, 1, 2] and report.labels == ("invented",)
    assert text == "You haven't told me that yet."


def test_what_he_said_earlier_about_his_question_is_found() -> None:
    his = ["My sister Marguerite is visiting from Lisbon next week.", "It rained all day.",
           "Where does my sister live?", "I made soup for dinner."]
    question = "Remind me, what is my sister's name and where does she live?"
    assert said_earlier(question, his) == his[0], "his earlier question is no answer"
    assert said_earlier("What did I cook for dinner?", his) == his[3]
    assert said_earlier("What do I do for a living?", his) is None


def test_his_own_words_from_his_side_are_turned_round() -> None:
    seen = Perspective.of("What's the name of my ex-wife, and when are we meeting?",
                          frozenset({"remember", "think"}), frozenset())
    assert seen.mirrors("The name of my ex-wife is Catherine.")
    assert seen.turned("The name of my ex-wife is Catherine.") == \
        "The name of your ex-wife is Catherine."
    assert not seen.mirrors("Catherine, on Thursday.")


def test_a_lead_in_before_her_i_does_not_hide_a_mirrored_answer() -> None:
    seen = Perspective.of("What do I do for a living?", frozenset({"remember", "think"}),
                          frozenset())
    assert seen.mirrors("As a new kind of person, I don't have a job yet.")
    assert not seen.mirrors("As you told me, you write letters.")


NOTES = "- (3 days ago) Theo writes letters for other people at work."


@pytest.mark.parametrize("reply", [
    "You work as a software engineer.",  # his notes say letters: the 1.5B model said this
    "You are a teacher.",
    "Your sister is a nurse in the city.",
    "I remember you're a teacher.",  # CI's build of the model said this, told nothing
    "Oh, I think that you work in a bank.",
])
def test_a_claim_about_him_with_words_never_told_is_invented(reply: str) -> None:
    assert seen("What do I do for a living?", NOTES).invents(reply)


@pytest.mark.parametrize("reply", [
    "You write letters for other people at work.",
    "You're a letter writer.",  # "writer" is told by "writes"
    "You write beautiful letters for people.",  # judging is no claim
    "You spend your days writing letters for other people.",
    "Well, you write letters for a living, Theo.",
    "You haven't told me that yet.",  # doubt or denial claims nothing
    "I think you write letters.",  # a mind's verb before a claim that was told
    "I wonder if you're a teacher.",  # a wondering claims nothing
])
def test_a_claim_about_him_from_what_he_told_her_is_not(reply: str) -> None:
    assert not seen("What do I do for a living?", NOTES, "Theo").invents(reply)


def test_a_made_up_claim_is_asked_again_and_the_told_one_said() -> None:
    attempts, generate = script("You work as a software engineer.",
                                "You write letters for other people.")
    text = "".join(guarded_stream(generate, DETECTOR, GuardReport(),  # type: ignore[arg-type]
                                  perspective=seen("What do I do for a living?", NOTES)))
    assert text == "You write letters for other people." and attempts == [0, 1]


def lent_seen(message: str, notes: tuple[str, ...]) -> Perspective:
    return replace(seen(message, *notes), notes=notes, names=("Theo", "Juniper"),
                   not_theirs="That's {other}'s, not {asked}'s.")


NOTES_OF_OTHERS = ("- Theo's sister Anna is a nurse in Lisbon.", "- Theo's friend Amy paints.")


def test_an_answer_about_one_person_from_a_note_about_another_is_lent() -> None:
    assert lent_seen("What does Amy do?", NOTES_OF_OTHERS).lent(
        "She is a nurse in Lisbon.") == "That's Anna's, not Amy's."
    assert lent_seen("What does Anna do?", NOTES_OF_OTHERS).lent(
        "She is a nurse in Lisbon.") is None
    assert lent_seen("Amy is a nurse in Lisbon, you know.", NOTES_OF_OTHERS).lent(
        "A nurse in Lisbon!") is None  # no question: nothing asked of her notes


def test_lent_on_every_try_she_says_whose_it_is() -> None:
    attempts, generate = script("She is a nurse in Lisbon. She works nights.")
    report = GuardReport()
    text = "".join(guarded_stream(generate, DETECTOR, report,  # type: ignore[arg-type]
                                  perspective=lent_seen("What does Amy do?",
                                                        NOTES_OF_OTHERS)))
    assert attempts == [0, 1, 2] and report.labels == ("lent",)
    assert text == "That's Anna's, not Amy's."


@pytest.mark.parametrize("message", ["Quick question: what is my cat called?",
                                     "Remind me, what is my sister's name?",
                                     "Remind me: what does Anna do?"])
def test_a_word_opening_his_sentence_or_his_own_life_is_no_one_asked_about(
        message: str) -> None:
    notes = ("(He said earlier: My cat Pickles is ginger and my sister Anna is a nurse.)",)
    assert lent_seen(message, notes).lent("Pickles! She is a nurse, Anna.") is None
