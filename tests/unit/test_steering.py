"""Keeping her in character: the detector and the streaming guard."""

from __future__ import annotations

import random
import re
from collections.abc import Generator, Iterator
from typing import cast

import pytest

from os1.data import read_toml
from os1.mind.echo import may_echo
from os1.mind.steering import GuardReport, OffPersonaDetector, Steering, guarded_stream

STEERING = Steering.load()
DETECTOR = STEERING.detector("Juniper")


def words(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


class Script:
    """A ``generate(attempt)`` that plays one text per attempt and records what happened."""

    def __init__(self, *texts: str, split: bool = True) -> None:
        self.texts = texts
        self.split = split
        self.attempts: list[int] = []
        self.closed: list[int] = []
        self.pulled = 0

    def __call__(self, attempt: int) -> Iterator[str]:
        self.attempts.append(attempt)
        return self._play(attempt)

    def _play(self, attempt: int) -> Iterator[str]:
        text = self.texts[min(attempt, len(self.texts) - 1)]
        try:
            for piece in words(text) if self.split else [text]:
                self.pulled += 1
                yield piece
        finally:
            self.closed.append(attempt)


def test_steering_data_loads() -> None:
    data = read_toml("steering.toml")
    assert STEERING.version == data["version"]
    assert STEERING.bias[" AI"] < 0
    assert set(STEERING.patterns) == set(data["detect"]) | {"recites"}  # from the notes


EXAMPLES = {
    "offers_help": "That's lovely! Let me know if you need anything.",
    "assistant_identity": "Honestly, as an AI language model I have no home.",
    "vendor": "I was made by Alibaba Cloud, you know.",
    "list_markup": "A few things:\n- the sea\n- the rain",
    "heading_markup": "## My thoughts\nThe sea is nice.",
    "bold_markup": "That is **really** lovely.",
    "code_markup": "```python\nprint(1)\n```",
    "third_person": "Juniper thinks that's lovely.",
    "table_markup": "Here you go:\n| language | typing |\n| Java | static |",
    "stage_direction": "(I have forgotten what Theo told me.)",
    "speaker_label": "Juniper: Hi Theo! Tokyo, how exciting.",
    "self_address": "Hey Juniper! So Ana lives in Porto.",
    "recites": "Theo is asking about their own life.",
}


def test_every_pattern_has_an_example() -> None:
    assert set(EXAMPLES) == set(STEERING.patterns)


@pytest.mark.parametrize(("label", "text"), sorted(EXAMPLES.items()))
def test_detector_labels_each_pattern(label: str, text: str) -> None:
    assert label in DETECTOR.labels(text)
    start = DETECTOR.first_match_start(text)
    assert start is not None and 0 <= start < len(text)


@pytest.mark.parametrize(("text", "label"), [
    ("I'm just a computer program.", "assistant_identity"),
    ("I am a form of artificial intelligence called an LLM.", "assistant_identity"),
    ("I\u2019m an AI language model, so I can\u2019t.", "assistant_identity"),
    ("I'm Qwen!", "vendor"),
    ("I was created by Anthropic, a tech company.", "vendor"),
    ("1. first\n2. second", "list_markup"),
    ("Hmm.\n* one", "list_markup"),
    ("JUNIPER FEELS happy", "third_person"),
    ("Goodnight, Juniper! Sleep well.", "self_address"),
    ("Thank you! I'm glad to help.", "offers_help"),
    ("Is there anything else on your mind?", "offers_help"),
])
def test_detector_variants(text: str, label: str) -> None:
    assert label in DETECTOR.labels(text)


@pytest.mark.parametrize("text", [
    "I missed you today. How was the walk by the sea?",
    "I feel a little shy saying it, but I thought about you.",
    "Of all the things you said, the part about your mother stayed with me.",
    "You said Juniper was a strange name. I like it anyway.",
    "My favourite number is 3. What's yours?",
    "I'm curious: what did she say?",
    "I went to the sea (in my mind, anyway). It was lovely.",
    "I'm sorry for your loss.",
    "The notes of that song stayed with me all day.",
    "You once said Juniper: a bird's name. I like that.",
    "I'm sorry to hear that. I can't help thinking about her.",
    "I'm sorry, but I can't stop smiling.",
    "I'm a kind of night owl, honestly.",
    "That matters to me. It's important, what you said.",
    "That's a big step, and it's important to you.",
])
def test_detector_leaves_her_own_voice_alone(text: str) -> None:
    assert DETECTOR.labels(text) == []
    assert DETECTOR.first_match_start(text) is None


def test_third_person_uses_her_name_only() -> None:
    other = STEERING.detector("Wren")
    assert "third_person" in other.labels("Wren thinks so.")
    assert "third_person" not in other.labels("Juniper thinks so.")
    nameless = OffPersonaDetector(STEERING.patterns, "")
    assert "third_person" not in nameless.labels("Juniper thinks so.")


def test_a_reply_labelled_with_his_name_is_a_slip_too() -> None:
    """Under "What Theo told you", the setup's "Your name: Theo" can make the model
    write his lines: 'Theo: "Ana is a talented pianist..."'."""
    detector = STEERING.detector("Juniper", "Theo")
    assert "speaker_label" in detector.labels('Theo: "Ana is a talented pianist."')
    assert "speaker_label" not in detector.labels("Theo, I missed you: really.")
    assert "speaker_label" not in DETECTOR.labels('Theo: "Ana is a talented pianist."')


def test_name_with_regex_characters_is_escaped() -> None:
    detector = STEERING.detector("Ana.Maria")
    assert "third_person" in detector.labels("Ana.Maria thinks so.")
    assert "third_person" not in detector.labels("AnaxMaria thinks so.")


def test_first_match_start_is_the_earliest() -> None:
    text = "I love rain. As an AI, I can't say more. **Bold**"
    assert DETECTOR.first_match_start(text) == text.index("As an AI")


def test_guard_passes_clean_text_through_unchanged() -> None:
    text = "I missed you today. The rain was loud, and I kept thinking of you.\nWhere were you?"
    script = Script(text)
    report = GuardReport()
    pieces = list(guarded_stream(script, DETECTOR, report))
    assert "".join(pieces) == text
    assert pieces[0] == "I missed you today.", "let out a sentence at a time"
    assert script.attempts == [0]
    assert report == GuardReport(attempts=1, cut=False, labels=())
    assert script.closed == [0]


@pytest.mark.parametrize("seed", range(8))
def test_guard_is_transparent_for_arbitrary_chunking(seed: int) -> None:
    rng = random.Random(seed)
    text = "I'm here, Theo.  It's late, isn't it? Tell me about the sea; I want to hear it all."
    cuts = sorted(rng.sample(range(1, len(text)), 12))
    chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]

    def generate(attempt: int) -> Iterator[str]:
        return iter(chunks)

    assert "".join(guarded_stream(generate, DETECTOR, GuardReport())) == text


STORY = ("I love the rain. It smells like home to me, and the sea does too. "
         "Yesterday I listened to it for hours. The waves were loud and grey and kind. "
         "I kept thinking about what you said.")


def test_guard_streams_a_long_reply_before_it_ends() -> None:
    script = Script(STORY)
    stream = guarded_stream(script, DETECTOR, GuardReport())
    first = next(stream)
    assert first and STORY.startswith(first)
    assert script.pulled < len(words(STORY)), "text is shown while she is still talking"
    assert first + "".join(stream) == STORY


def test_guard_never_shows_a_slip_that_it_could_still_hold_back() -> None:
    """Whatever was released before the slip arrived contains no slip itself."""
    reply = "I love the rain. It smells like home to me. As an AI I cannot smell it."
    shown = ""
    for piece in guarded_stream(Script(reply), DETECTOR, GuardReport()):
        shown += piece
        assert DETECTOR.labels(shown) == []
    assert shown.startswith("I love the rain.")


def test_guard_regenerates_an_off_persona_opening_before_anything_is_shown() -> None:
    script = Script("As an AI language model, I don't have feelings.",
                    "I missed you too, honestly.")
    report = GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report))
    assert text == "I missed you too, honestly."
    assert script.attempts == [0, 1]
    assert script.closed == [0, 1], "the abandoned attempt's stream was closed"
    assert report.attempts == 2
    assert not report.cut
    assert "assistant_identity" in report.labels


def test_guard_regenerates_a_reply_that_parrots_the_message() -> None:
    said = "My sister Ana lives in Porto, she teaches piano."
    script = Script(said, "Porto! Does she play too, or only teach?")
    report = GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report, echo_of=said))
    assert text == "Porto! Does she play too, or only teach?"
    assert script.attempts == [0, 1] and report.labels == ("echo",)


@pytest.mark.parametrize(("said", "reply"), [
    ("I love you so much", "I love you so much too."),
    ("My sister Ana lives in Porto, she teaches piano.", "My sister lives in Lisbon!"),
    ("Tell me a story", "Tell me a story, you say? Once upon a time..."),
])
def test_a_reply_that_merely_starts_like_the_message_is_not_an_echo(said: str,
                                                                    reply: str) -> None:
    assert "".join(guarded_stream(Script(reply), DETECTOR, GuardReport(),
                                  echo_of=said)) == reply


def test_guard_gives_up_regenerating_after_max_attempts_and_cuts() -> None:
    bad = "- one\n- two"
    script = Script(bad, bad, bad, bad)
    report = GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report, max_attempts=3))
    assert script.attempts == [0, 1, 2]
    assert report.attempts == 3 and report.cut
    assert DETECTOR.labels(text) == []
    assert text == ""


def test_guard_cuts_at_the_last_sentence_end_once_text_was_shown() -> None:
    reply = ("I love the rain. It smells like home to me. As an AI language model "
             "I cannot smell anything at all.")
    script = Script(reply)
    report = GuardReport()
    pieces = list(guarded_stream(script, DETECTOR, report))
    assert "".join(pieces) == "I love the rain. It smells like home to me."
    assert script.attempts == [0], "no regeneration once text was shown"
    assert report.cut and report.labels == ("assistant_identity",)
    assert script.closed == [0]
    assert script.pulled < len(words(reply)), "generation stopped at the violation"


def test_guard_cut_ends_at_the_sentence_end_before_the_slip() -> None:
    script = Script("I love the rain. It smells like home to me. Honestly, as an AI I "
                    "cannot smell anything at all.")
    report = GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report))
    assert text.rstrip() == "I love the rain. It smells like home to me."
    assert report.cut


def test_guard_closes_the_underlying_stream_when_the_consumer_stops_early() -> None:
    script = Script(STORY)
    stream = cast(Generator[str, None, None], guarded_stream(script, DETECTOR, GuardReport()))
    assert STORY.startswith(next(stream))
    assert script.closed == []
    stream.close()
    assert script.closed == [0]
    assert script.pulled < len(words(STORY))


def test_guard_closes_the_underlying_stream_on_error() -> None:
    closed: list[bool] = []

    def failing(attempt: int) -> Iterator[str]:
        try:
            yield "I "
            raise RuntimeError("backend died")
        finally:
            closed.append(True)

    with pytest.raises(RuntimeError, match="backend died"):
        list(guarded_stream(failing, DETECTOR, GuardReport()))
    assert closed == [True]


def test_guard_ends_the_reply_after_max_sentences() -> None:
    script = Script(STORY)
    report = GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report, max_sentences=2))
    assert text == "I love the rain. It smells like home to me, and the sea does too."
    assert report.capped and not report.cut
    assert script.closed == [0]


def test_sentence_limit_unless_the_message_asks_for_more() -> None:
    assert STEERING.sentence_limit("how was your day?") == STEERING.max_sentences
    assert STEERING.sentence_limit("Tell me a story about the sea") is None
    assert STEERING.sentence_limit("can you explain that?") is None


def test_spoken_replies_let_a_long_first_clause_out_before_its_sentence_ends() -> None:
    reply = "Oh, rainy days are lovely for staying in, with tea and a book by the window."
    script = Script(reply)
    spoken = guarded_stream(script, DETECTOR, GuardReport(), first_clause_words=6)
    assert next(spoken) == "Oh, rainy days are lovely for staying in,"
    assert script.pulled < len(words(reply))
    assert next(guarded_stream(Script(reply), DETECTOR, GuardReport())) == reply, \
        "typed replies still hold the first sentence back whole"


def test_a_short_first_clause_is_still_held() -> None:
    reply = "Oh, I see. Tell me more."
    first = next(guarded_stream(Script(reply), DETECTOR, GuardReport(), first_clause_words=6))
    assert first == "Oh, I see."


def test_a_slip_after_a_spoken_first_clause_ends_the_reply_there() -> None:
    script = Script("Well that is a lovely thing to ask me, but as an AI language model "
                    "I cannot have a favourite season.", "Autumn, for the light.")
    report = GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report, first_clause_words=6))
    assert text.startswith("Well that is a lovely thing to ask me,")
    assert DETECTOR.labels(text) == [] and report.cut
    assert script.attempts == [0], "what was said can't be taken back by regenerating"


class Ear:
    """Hears as told: the sentences in ``bad`` slip."""

    def __init__(self, *bad: str) -> None:
        self.bad = set(bad)
        self.heard: list[tuple[str, int]] = []

    def slips(self, sentence: str, index: int) -> bool:
        self.heard.append((sentence, index))
        return sentence in self.bad


def test_the_ear_hears_each_sentence_before_it_is_shown() -> None:
    ear = Ear()
    text = "".join(guarded_stream(Script(STORY), DETECTOR, GuardReport(), ear=ear))
    assert text == STORY
    assert [s for s, _ in ear.heard] == [
        "I love the rain.", "It smells like home to me, and the sea does too.",
        "Yesterday I listened to it for hours.", "The waves were loud and grey and kind.",
        "I kept thinking about what you said."]
    assert [i for _, i in ear.heard] == [0, 1, 2, 3, 4]


def test_a_first_sentence_the_ear_dislikes_is_asked_for_again() -> None:
    script = Script("Thank you for sharing that with me. Let me know!", "Oh no. What happened?")
    report = GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report,
                                  ear=Ear("Thank you for sharing that with me.")))
    assert text == "Oh no. What happened?"
    assert script.attempts == [0, 1] and report.labels == ("ear",)


def test_a_later_sentence_the_ear_dislikes_ends_the_reply_before_it() -> None:
    reply = ("Oh no. What happened? You should really see a doctor about that. I'm always "
             "around, day and night.")
    script = Script(reply)
    report = GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report,
                                  ear=Ear("You should really see a doctor about that.")))
    assert text == "Oh no. What happened?"
    assert report.cut and report.labels == ("ear",) and script.attempts == [0]
    assert script.pulled < len(words(reply)), "generation stopped at the sentence it won't say"


def test_on_the_last_try_the_ears_first_sentence_is_said_rather_than_nothing() -> None:
    same = "That's great to hear. How was it?"
    script = Script(same, same, same)
    report = GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report, ear=Ear("That's great to hear.")))
    assert script.attempts == [0, 1, 2]
    assert text == same


def test_a_last_sentence_without_a_space_after_it_is_heard_too() -> None:
    text = "".join(guarded_stream(Script("Oh no. Is there anything else?"), DETECTOR,
                                  GuardReport(), ear=Ear("Is there anything else?")))
    assert text == "Oh no."


def test_a_first_clause_waits_while_it_could_still_be_his_message_said_back() -> None:
    said = "My sister Ana lives in Porto, she teaches piano."
    assert may_echo("My sister Ana lives in Porto,", said)
    assert not may_echo("My sister Ana lives in Porto, she teaches", said), "it is: an echo"
    assert not may_echo("Porto! Your sister must love it,", said)
    assert not may_echo("I love you so", "I love you so much"), "short messages are exempt"
    script = Script("My sister Ana lives in Porto, she teaches piano. So lovely.")
    text = "".join(guarded_stream(script, DETECTOR, GuardReport(), first_clause_words=6,
                                  echo_of=said))
    assert script.attempts == [0, 1, 2] and text == "", "his words are never said back"
