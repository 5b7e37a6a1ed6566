"""His letters in a conversation (``os1 chat``, ``os1 talk``, the web page): "take a
letter" (each turn after it is a paragraph, until "end of letter"), "can you read this
over?" (with the letter pasted after it, or a letter's number), his answers to her
suggestions, what she likes in a letter, which are the best, and his list.

Why the desk hears a turn before the router does (``reply``): while he dictates, every
word is the letter's, whatever it sounds like ("remind me to call Amy" is a line of the
letter then, not an errand); and after her suggestions, "accept 1 and 3" is an answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from os1.data import fill, read_toml
from os1.letters.answers import answers
from os1.letters.best import choose_best
from os1.letters.his_letters import HisLetters, Reading, her_name
from os1.letters.praise import praise
from os1.letters.records import Letter
from os1.letters.review import Outcome
from os1.letters.submission_desk import INTENTS as SUBMISSION_INTENTS
from os1.letters.submission_desk import SubmissionDesk
from os1.skills.contract import Person, SkillAnswer
from os1.skills.intents import builtin_intents, first_answer
from os1.skills.replies import understood

_END = re.compile(r"[\s,]*\b(?:end (?:of )?(?:the )?letter|that'?s the (?:whole )?letter)"
                  r"[\s.!]*$", re.IGNORECASE)
# said alone, these end it too ("end of letter" is often heard as "end of lecture")
_END_ALONE = re.compile(r"^\s*(?:(?:the )?end of (?:the )?le\w+|that'?s (?:all|it)|i'?m done|"
                        r"done|finished)[\s.!]*$", re.IGNORECASE)
_CANCEL = re.compile(r"^\s*(?:cancel|forget|scrap|drop) (?:the|this|that) letter[\s.!]*$",
                     re.IGNORECASE)
_SCRATCH = re.compile(r"^\s*(?:scratch that|delete that|take that back|undo that)[\s.!]*$",
                      re.IGNORECASE)
_SPOKEN_BREAK = re.compile(r"\s*\bnew (?:paragraph|line)\b[\s.,]*", re.IGNORECASE)


@dataclass
class Dictation:
    who: str
    parts: list[str] = field(default_factory=list)


class LetterDesk:
    def __init__(self, person: Person) -> None:
        self.person = person
        self.letters = HisLetters(person.db, person.settings.user, person.model)
        self.lines: dict[str, str] = read_toml("letters.toml")["lines"]
        self._taking: Dictation | None = None
        self._reading: int | None = None  # the letter whose suggestions he answers
        self._last: int | None = None  # the letter "it" means
        self.submissions = SubmissionDesk(person)  # "send it to a publisher"

    def answer(self, text: str) -> SkillAnswer | None:
        return first_answer(self, builtin_intents("letters"), text)

    def reply(self, text: str) -> SkillAnswer | None:
        submitted = self.submissions.reply(text)  # her proposal holds for this turn only
        if submitted is not None:
            return submitted
        if self._taking is not None:
            return self._dictated(text)
        if self._reading is not None:
            return self._answered(text)
        return None

    def passed(self) -> None:
        """Another skill answered: his dictation goes on (it took that turn only if it
        was not dictating), her suggestions keep waiting; a submission she proposed
        lapses."""
        self.submissions.passed()

    def act(self, intent: str, text: str, slots: Mapping[str, str]) -> SkillAnswer | None:
        if intent in SUBMISSION_INTENTS:
            return self.submissions.act(intent, slots)
        if intent == "take":
            who = (slots.get("who") or "").strip()
            self._taking = Dictation(who)
            said = fill(self.lines["take_for" if who else "take"], who=who)
            return SkillAnswer(said, said)
        if intent == "list":
            return self._said(self._list())
        if intent == "best":
            return self._said(self._best())
        letter = self._letter(slots)
        if letter is None:
            return self._said(self.lines["which_letter" if self.letters.library.all()
                                         else "no_letters"])
        self._last = letter.id
        if intent == "like":
            return self._said(self._praise(letter))
        if intent in ("read_over", "flow"):
            return self._read_over(letter, flow=intent == "flow")
        return None

    def _dictated(self, text: str) -> SkillAnswer:
        assert self._taking is not None
        taking = self._taking
        if _CANCEL.match(text):
            self._taking = None
            return self._said(self.lines["dropped"])
        if _SCRATCH.match(text):
            if not taking.parts:
                return self._said(self.lines["nothing_to_scratch"])
            return self._said(fill(self.lines["scratched"], part=taking.parts.pop()))
        ending = _END.search(text) or _END_ALONE.match(text)
        part = _SPOKEN_BREAK.sub("\n\n", text[:ending.start()] if ending else text).strip()
        if part:
            taking.parts.append(part)
        if ending is None:
            return self._said(self.lines["taking"])
        self._taking = None
        if not taking.parts:
            return self._said(self.lines["taken_empty"])
        letter = self.letters.library.add("\n\n".join(taking.parts), written_for=taking.who,
                                          note="dictated")
        self._last = letter.id
        return self._said(fill(self.lines["taken"], number=str(letter.id),
                               title=letter.title, words=str(len(letter.text.split()))))

    def _answered(self, text: str) -> SkillAnswer | None:
        assert self._reading is not None
        said = answers(text)
        if not said and understood(text) is not None:
            said = answers("all" if understood(text) == "yes" else "none")
        if not said:
            return None
        letter_id = self._reading
        outcome = None
        for answer in said:
            if not self.letters.reviews.suggestions(letter_id):
                break
            outcome = self.letters.reviews.decide(letter_id, answer.verb, answer.numbers,
                                                  answer.kind)
        if outcome is None or not outcome.waiting:
            self._reading = None
        return self._said(self._outcome(outcome) if outcome else self.lines["taking"])

    def _read_over(self, letter: Letter, flow: bool) -> SkillAnswer:
        reading = self.letters.read_over(letter.id, flow)
        parts = [] if flow else [self._praise(letter)]
        parts.append(self._suggestions(reading))
        self._reading = letter.id if reading.suggestions else None
        kept = fill(self.lines["kept_reading"], number=str(letter.id),
                    count=str(len(reading.suggestions)))
        return SkillAnswer("\n\n".join(p for p in parts if p), kept)

    def _suggestions(self, reading: Reading) -> str:
        if not reading.suggestions:
            return reading.note
        lines = [fill(self.lines["suggestions_intro"],
                      count=_count(len(reading.suggestions), "change"))]
        lines += [fill(self.lines["suggestion"], number=str(s.number),
                       original=s.edit.original, replacement=s.edit.replacement,
                       reason=s.edit.reason) for s in reading.suggestions]
        return "\n".join(lines) + "\n" + self.lines["ask_answers"]

    def _outcome(self, outcome: Outcome) -> str:
        values = {"number": str(outcome.letter.id), "version": str(outcome.letter.version),
                  "accepted": str(outcome.accepted), "rejected": str(outcome.rejected),
                  "waiting": str(outcome.waiting)}
        if outcome.waiting:
            return fill(self.lines["outcome_waiting"], **values)
        return fill(self.lines["outcome_done" if outcome.accepted else "outcome_done_none"],
                    **values)

    def _letter(self, slots: Mapping[str, str]) -> Letter | None:
        """The letter he means: pasted after his request (kept as a new one), by number,
        else the one just talked about, else his newest."""
        pasted = (slots.get("rest") or "").strip()
        if pasted:
            return self.letters.library.add(pasted, note="pasted")
        if slots.get("number"):
            return self.letters.library.get(int(slots["number"]))
        every = self.letters.library.all()
        if self._last is not None and any(letter.id == self._last for letter in every):
            return self.letters.library.get(self._last)
        return every[-1] if every else None

    def _praise(self, letter: Letter) -> str:
        return praise(self.person.model(), letter.text, self._her_name(), self.person.name,
                      letter.written_for)

    def _best(self) -> str:
        every = self.letters.library.all()
        if not every:
            return self.lines["no_letters"]
        chosen = choose_best(self.person.model(), every, self._her_name(), self.person.name)
        for choice in chosen:  # his own choices stay as he made them
            self.letters.library.choose(choice.letter.id, True, choice.reason)
        lines = [self.lines["best_intro"]]
        lines += [fill(self.lines["best_line"], number=str(c.letter.id), title=c.letter.title,
                       reason=c.reason) for c in chosen]
        return "\n".join([*lines, self.lines["best_after"]])

    def _list(self) -> str:
        every = self.letters.library.all()
        if not every:
            return self.lines["no_letters"]
        lines = [self.lines["list_intro"]]
        lines += [fill(self.lines["list_line"], number=str(letter.id), title=letter.title,
                       words=str(len(letter.text.split())),
                       for_whom=f" for {letter.written_for}" if letter.written_for else "")
                  for letter in every]
        return "\n".join(lines)

    def _her_name(self) -> str:
        return her_name(self.person.db, self.person.settings.user)

    def _said(self, text: str) -> SkillAnswer:
        return SkillAnswer(text, text)


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")
