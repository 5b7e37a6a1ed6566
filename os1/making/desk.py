"""What she makes, in a conversation: "play me something about this morning", "draw us
at the beach", then "slower" or "add a dog" about what she just made, "play the song you
wrote about the beach" and "what have you made for me?".

Why a bare "slower" is heard in ``reply`` and not as an intent: said out of the blue it
means nothing of hers, and an intent for it would claim half of every conversation. Right
after she made something it can mean only that, so it is heard first, and only then: a
turn that went elsewhere (``passed``) lets it go.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from os1.data import fill, read_toml
from os1.errors import InputError
from os1.making.errors import MakingError, RendererMissing
from os1.making.music.character import requested_bars
from os1.making.records import Work, WorkKind
from os1.making.studio import Made, Studio, borrowed_work
from os1.making.works import WorkNotFound
from os1.memory.retrieval import search_terms
from os1.skills.contract import Person, SkillAnswer
from os1.skills.intents import builtin_intents, find_intents, first_answer

SKILL = "made"


class MakingDesk:
    def __init__(self, person: Person) -> None:
        self.person = person
        self.studio = Studio(person.db, person.settings.user, person.settings.home,
                             person.model)
        self.works = self.studio.works
        self.lines: dict[str, Any] = read_toml("making.toml")["desk"]
        self._last: int | None = None  # the work "slower" and "it" mean

    def answer(self, text: str) -> SkillAnswer | None:
        return first_answer(self, builtin_intents(SKILL), text)

    def reply(self, text: str) -> SkillAnswer | None:
        """A change to what she just made ("slower", "make the sky darker"), else None.
        A request that names a work or asks for a new one is the intents' to act on."""
        if self._last is None or not _is_revision(text):
            return None
        if find_intents(builtin_intents(SKILL), text):
            return None
        return self._revise(self._last, text.strip())

    def passed(self) -> None:
        """Another turn went elsewhere: "slower" would no longer mean her last work."""
        self._last = None

    def act(self, intent: str, text: str, slots: Mapping[str, str]) -> SkillAnswer | None:
        if intent == "compose":
            return self._compose(text, slots)
        if intent == "draw":
            about = (slots.get("about") or "").strip() or self.lines["about_nothing"]
            return self._new(lambda: self.studio.draw(about, self._moment(about)))
        if intent == "list":
            return self._said(self._list())
        if intent == "play":
            return self._play(slots)
        if intent == "revise":
            return self._revise_named(slots)
        return None

    # -- making ---------------------------------------------------------------------------

    def _compose(self, text: str, slots: Mapping[str, str]) -> SkillAnswer:
        request = compose_request(text, slots, self.lines["about_nothing"])
        return self._new(lambda: self.studio.compose(request, self._moment(request)))

    def _new(self, make: Callable[[], Made]) -> SkillAnswer:
        made = self._made(make)
        if isinstance(made, SkillAnswer):
            return made
        work = made.work
        self._last = work.id
        kept = fill(self.lines["kept_piece" if work.kind == "music" else "kept_drawing"],
                    about=work.about, number=str(work.id), title=work.title)
        return SkillAnswer(self._with_where(made.said, work), f"{kept} {made.said}",
                           self._sound(work))

    def _revise(self, work_id: int, request: str) -> SkillAnswer:
        try:
            before = self.works.get(work_id)
        except WorkNotFound:
            return self._said(fill(self.lines["no_number"], number=str(work_id)))
        revise = self.studio.revise_piece if before.kind == "music" else \
            self.studio.revise_drawing
        made = self._made(lambda: revise(work_id, request))
        if isinstance(made, SkillAnswer):
            return made
        self._last = work_id
        work = made.work
        if work.latest.number == before.latest.number:  # she asks how to change it
            return self._said(made.said)
        kept = fill(self.lines["kept_revised"], title=work.title, number=str(work.id),
                    request=request, version=str(work.latest.number))
        return SkillAnswer(self._with_where(made.said, work), f"{kept} {made.said}",
                           self._sound(work))

    def _revise_named(self, slots: Mapping[str, str]) -> SkillAnswer | None:
        change = (slots.get("change") or "").strip()
        found = self._named(slots)
        if isinstance(found, SkillAnswer) or found is None or not change:
            return found if isinstance(found, SkillAnswer) else None
        return self._revise(found.id, change)

    def _made(self, make: Callable[[], Made]) -> Made | SkillAnswer:
        """What she made, or what she says when she could not: nothing is kept then."""
        try:
            return make()
        except RendererMissing as exc:
            return self._said(fill(self.lines["cannot"], error=str(exc), hint=exc.hint))
        except (MakingError, InputError) as exc:
            return self._said(fill(self.lines["failed"], error=str(exc).rstrip(".")))

    def _moment(self, about: str) -> str:
        """The memory of hers the work comes from ("this morning": what he told her of
        it), or "" without her long-term memory or a memory that shares its words."""
        terms = search_terms(about)
        if self.person.memories is None or not terms:
            return ""
        found = self.person.memories(terms, 1)
        return found[0][0].content if found else ""

    # -- what she made before -------------------------------------------------------------

    def _play(self, slots: Mapping[str, str]) -> SkillAnswer | None:
        noun = (slots.get("noun") or "").strip()
        if slots.get("it"):
            if self._last is None:
                return None
            found = self._named({"number": str(self._last)})
            return found if isinstance(found, SkillAnswer) or found is None \
                else self._again(found)
        if not slots.get("number") and not slots.get("subject") and noun.endswith("s"):
            return self._said(self._list(_kind(noun)))
        found = self._named(slots)
        if isinstance(found, SkillAnswer):
            return found
        if found is None:
            every = self.works.all(_kind(noun))
            if not every:
                return self._said(self.lines["nothing_yet"])
            found = every[0]
        return self._again(found)

    def _named(self, slots: Mapping[str, str]) -> Work | SkillAnswer | None:
        """The work he names by number or by subject; what she says when there is none;
        None when he named neither."""
        kind = _kind(slots.get("noun") or "")
        if slots.get("number"):
            try:
                return self.works.get(int(slots["number"]))
            except WorkNotFound:
                return self._said(fill(self.lines["no_number"], number=slots["number"]))
        subject = (slots.get("subject") or "").strip()
        if not subject:
            return None
        found = self.works.find(subject, kind)
        if found is None:
            line = "not_found_drawing" if kind == "drawing" else "not_found_music"
            return self._said(fill(self.lines[line], subject=subject))
        return found

    def _again(self, work: Work) -> SkillAnswer:
        self._last = work.id
        music = work.kind == "music"
        said = fill(self.lines["playing" if music else "showing"], title=work.title,
                    about=work.about)
        kept = fill(self.lines["kept_played" if music else "kept_shown"], title=work.title,
                    number=str(work.id))
        return SkillAnswer(self._with_where(said, work), kept, self._sound(work))

    def _list(self, kind: WorkKind | None = None) -> str:
        every = self.works.all(kind)
        if not every:
            return str(self.lines["nothing_yet"])
        lines = [self.lines["list_intro"]]
        for work in every:
            count = len(work.versions)
            versions = fill(self.lines["list_versions"], count=str(count)) if count > 1 else ""
            when = datetime.fromtimestamp(work.created_at)
            lines.append(fill(self.lines["list_line"], number=str(work.id), title=work.title,
                              kind=self.lines[f"kind_{work.kind}"], versions=versions,
                              date=f"{when.day} {when:%B}"))
        return "\n".join([*lines, self.lines["list_after"]])

    # -- what she says --------------------------------------------------------------------

    def _with_where(self, said: str, work: Work) -> str:
        return f"{said}\n\n{fill(self.lines['where'], number=str(work.id))}"

    def _sound(self, work: Work) -> Path | None:
        """The WAV of a piece's newest version, for ``os1 talk`` to play."""
        if work.kind != "music":
            return None
        try:
            return self.works.file(work.id, work.latest.number, "audio").path
        except WorkNotFound:
            return None

    def _said(self, text: str) -> SkillAnswer:
        return SkillAnswer(text, text)


def compose_request(text: str, slots: Mapping[str, str], nothing: str) -> str:
    """What the studio is asked for: his whole message when it names someone else's song
    (she says she wrote her own instead), else what it should be about: "the rain" for
    "a song about the rain", but "a lullaby for Anna" whole, and the length he asked for
    kept ("a 200 bar symphony about the sea"), so the cap is said."""
    if borrowed_work(text) is not None:
        return text.strip()
    about = " ".join((slots.get("about") or "").split())
    what, prep = (slots.get("what") or "").strip(), (slots.get("prep") or "").strip()
    if not about:
        return nothing
    if what and prep and (prep != "about" or requested_bars(what) is not None):
        return f"{what} {prep} {about}"  # "a lullaby for Anna", "a 200 bar symphony about…"
    bars = requested_bars(text)
    if bars is not None and requested_bars(about) is None:
        return f"{about}, {bars} bars"
    return about


@cache
def _revisions() -> tuple[re.Pattern[str], ...]:
    patterns = read_toml("making.toml")["desk"]["revisions"]
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


def _is_revision(text: str) -> bool:
    return len(text) <= 200 and any(p.search(text) for p in _revisions())


def _kind(noun: str) -> WorkKind | None:
    """Which kind of work a word names: "picture" a drawing, "song" music, "work" either."""
    words = read_toml("making.toml")["desk"]
    noun = noun.strip().lower()
    if not noun or noun in words["either_words"]:
        return None
    return "drawing" if noun in words["drawing_words"] else "music"
