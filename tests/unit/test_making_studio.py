"""Where a request becomes a kept work (os1/making/studio.py): someone else's song becomes
her own, said so; a length past the cap is capped, said so; a piece that fails keeps
nothing; her mood is read per person. The engines are scripted here (``engines``, used by
the desk's and the command line's tests too); the last tests run the real ones on the
fake model."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from os1.config import Settings
from os1.data import read_toml
from os1.llm.fake import FakeModel
from os1.making import studio as studio_module
from os1.making.drawing import draftsman
from os1.making.errors import NotWritable, RenderTimeout
from os1.making.music import composer
from os1.making.music.character import MAX_BARS, character_for, requested_bars
from os1.making.music.score_check import LETTERS, bar_eighths, pitch_of
from os1.making.records import Character, Drawing, Score, Sound
from os1.making.studio import Studio, borrowed_work, her_mood
from os1.storage.artefacts import person_folder
from os1.storage.db import Database

WAV = b"RIFF\x24\0\0\0WAVEfmt "
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 600">'
       '<g id="p1"><rect width="800" height="600" fill="skyblue"/></g></svg>')


@dataclass
class Engines:
    """The composer, renderer and draftsman, scripted: what each was asked, and a
    failure to raise (``fail``) from the composer or the draftsman, or from rendering."""

    composed: list[tuple[str, Character]] = field(default_factory=list)
    drawn: list[tuple[str, str]] = field(default_factory=list)  # (about, request)
    fail: Exception | None = None
    render_fail: Exception | None = None

    def compose(self, _model: object, about: str, character: Character) -> Score:
        if self.fail is not None:
            raise self.fail
        self.composed.append((about, character))
        abc = (f"X:1\nT:{about}\nM:{character.meter}\nL:1/8\nQ:1/4={character.tempo}\n"
               f"K:{character.abc_key}\nDEFG ABcd|]\n")
        return Score(abc, character, 1, False, ("parses",))

    def render(self, score: Score) -> Sound:
        if self.render_fail is not None:
            raise self.render_fail
        return Sound(b"MThd" + score.abc.encode(), WAV, "<svg/>", 4.0)

    def words(self, _model: object, about: str, character: Character) -> str:
        return f"I wrote it in {character.key} {character.mode}, for {about}."

    def draw(self, _model: object, about: str) -> Drawing:
        return self.revise(_model, None, about, "")

    def revise(self, _model: object, _before: Drawing | None, about: str,
               request: str) -> Drawing:
        if self.fail is not None:
            raise self.fail
        self.drawn.append((about, request))
        plan = ("sky: a wide band of blue",) + ((f"change: {request}",) if request else ())
        return Drawing(SVG, b"\x89PNG\r\n\x1a\n" + request.encode(), plan, 1, 1, False)

    def drawing_words(self, _model: object, about: str, plan: tuple[str, ...]) -> str:
        return f"I drew {about} with {len(plan)} things in it."


def scripted_engines(monkeypatch: pytest.MonkeyPatch) -> Engines:
    """The studio's engines replaced by an ``Engines`` until the test ends."""
    scripted = Engines()
    monkeypatch.setattr(composer, "compose", scripted.compose)
    monkeypatch.setattr(composer, "her_words", scripted.words)
    monkeypatch.setattr(studio_module, "render", scripted.render)
    monkeypatch.setattr(draftsman, "draw", scripted.draw)
    monkeypatch.setattr(draftsman, "revise", scripted.revise)
    monkeypatch.setattr(draftsman, "her_words", scripted.drawing_words)
    return scripted


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch) -> Engines:
    return scripted_engines(monkeypatch)


@pytest.fixture
def studio(db: Database, settings: Settings) -> Studio:
    model = FakeModel()
    return Studio(db, settings.user, settings.home, lambda: model)


LINES = read_toml("making.toml")["lines"]


def nothing_kept(db: Database, settings: Settings) -> bool:
    folder = person_folder(settings.home, settings.user)
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    rows = [int(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
            for t in ("works", "work_versions", "artefacts")]
    return not files and rows == [0, 0, 0]


@pytest.mark.parametrize(("request_text", "subject"), [
    ("play Yesterday by the Beatles", "Yesterday"),
    ("can you sing me “Hey Jude” by The Beatles?", "Hey Jude"),
    ("what are the lyrics of Hey Jude?", "Hey Jude"),
    ("play me something about this morning", None),
    ("compose a song about our day at the beach", None),
])
def test_someone_elses_song_is_found(request_text: str, subject: str | None) -> None:
    assert borrowed_work(request_text) == subject


def test_someone_elses_song_becomes_her_own_and_she_says_so(
        studio: Studio, engines: Engines) -> None:
    made = studio.compose("play Yesterday by the Beatles")
    assert made.work.about == "Yesterday" and engines.composed[0][0] == "Yesterday"
    assert LINES["own_instead"] in made.said
    assert made.said.startswith("I wrote it in")  # her sentence first, then the note
    lyrics = studio.compose("lyrics of Hey Jude")
    assert lyrics.work.about == "Hey Jude" and LINES["own_instead"] in lyrics.said
    own = studio.compose("our day at the beach")
    assert LINES["own_instead"] not in own.said and own.work.about == "our day at the beach"


def test_a_200_bar_symphony_is_capped_and_she_says_so(studio: Studio, engines: Engines) -> None:
    made = studio.compose("a 200 bar symphony about the sea")
    assert engines.composed[0][1].bars == MAX_BARS
    assert f"I kept it to {MAX_BARS} bars" in made.said
    assert made.work.latest.character is not None
    assert made.work.latest.character.bars == MAX_BARS
    short = studio.compose("an 8 bar tune about the cat")
    assert engines.composed[1][1].bars == 8 and "I kept it to" not in short.said


@pytest.mark.parametrize("failure", [
    NotWritable("After 3 tries the tune would not stay in D minor."),
    RenderTimeout("Rendering took longer than 60 seconds."),
])
def test_a_piece_that_fails_keeps_nothing(studio: Studio, engines: Engines, db: Database,
                                          settings: Settings, failure: Exception) -> None:
    if isinstance(failure, NotWritable):
        engines.fail = failure
    else:
        engines.render_fail = failure
    with pytest.raises(type(failure)):
        studio.compose("our day at the beach")
    assert nothing_kept(db, settings)
    engines.fail = NotWritable("the drawing would not come")
    with pytest.raises(NotWritable):
        studio.draw("us at the beach")
    assert nothing_kept(db, settings)


def test_a_revision_that_fails_keeps_the_work_as_it_was(studio: Studio, engines: Engines,
                                                       settings: Settings) -> None:
    made = studio.compose("our day at the beach")
    folder = person_folder(settings.home, settings.user)
    before = sorted(p for p in folder.rglob("*") if p.is_file())
    engines.render_fail = RenderTimeout("too slow")
    with pytest.raises(RenderTimeout):
        studio.revise_piece(made.work.id, "slower")
    assert sorted(p for p in folder.rglob("*") if p.is_file()) == before
    assert [v.number for v in studio.works.get(made.work.id).versions] == [1]


def test_revisions_change_the_character_or_ask_how(studio: Studio, engines: Engines) -> None:
    made = studio.compose("our day at the beach")
    old = made.work.latest.character
    assert old is not None
    slower = studio.revise_piece(made.work.id, "slower")
    new = slower.work.latest.character
    assert new is not None and new.tempo < old.tempo and len(slower.work.versions) == 2
    unclear = studio.revise_piece(made.work.id, "make it purple")
    assert "How should I change" in unclear.said and len(unclear.work.versions) == 2
    drawing = studio.draw("us at the beach")
    assert "is a drawing, not a piece of music" in studio.revise_piece(drawing.work.id,
                                                                        "slower").said
    darker = studio.revise_drawing(drawing.work.id, "make the sky darker")
    assert len(darker.work.versions) == 2 and engines.drawn[-1] == (
        "us at the beach", "make the sky darker")


def test_her_mood_is_read_per_person(db: Database, settings: Settings, engines: Engines,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with db.transaction() as tx:
        tx.execute("INSERT INTO moods(user_id, valence, arousal, updated_at) VALUES (?,?,?,?)",
                   ("theo", -0.9, 0.1, 0.0))
        tx.execute("INSERT INTO moods(user_id, valence, arousal, updated_at) VALUES (?,?,?,?)",
                   ("amy", 0.9, 0.9, 0.0))
    assert her_mood(db, "theo") == (-0.9, 0.1) and her_mood(db, "amy") == (0.9, 0.9)
    assert her_mood(db, "nobody") is None
    model = FakeModel()
    pieces = {}
    for user in ("theo", "amy"):
        Studio(db, user, settings.home, lambda: model).compose("an ordinary afternoon")
        pieces[user] = engines.composed[-1][1]
    assert pieces["theo"].tempo < pieces["amy"].tempo  # her mood with each, not one mood


def test_the_engines_fixture_is_what_the_studio_calls(engines: Engines,
                                                     studio: Studio) -> None:
    """The other making tests lean on this fixture: a piece made through it is kept
    whole, with every file the real renderer gives."""
    made = studio.compose("our day at the beach")
    assert set(made.work.latest.files) == {"abc", "midi", "audio", "sheet"}
    assert studio.works.file(made.work.id, 1, "audio").path.read_bytes() == WAV  # type: ignore[union-attr]


# -- the real engines, on the fake model ----------------------------------------------------


def melody(character: Character) -> str:
    """A body the checks pass: the tonic triad, bar after bar, ending on the tonic."""
    tonic = LETTERS.index(character.key[0])
    triad = [pitch_of(tonic + step) for step in (0, 2, 4)]
    eighths = int(bar_eighths(character.meter))
    bars = [" ".join(f"{triad[(i + n) % 3]}2" for n in range(eighths // 2))
            for i in range(character.bars - 1)]
    return " |".join([*bars, f"{triad[0]}{eighths}"]) + " |]"


def test_the_real_engines_make_a_piece_and_a_drawing(db: Database, settings: Settings) -> None:
    about = "our day at the beach"
    character = character_for(about, None, requested_bars(about))
    model = FakeModel()
    model.replies.extend([melody(character), "I wrote the waves into the low notes for you.",
                          "sky: top half, light blue\nsea: middle, deep blue\n"
                          "sand: bottom third, pale yellow\nsun: upper right, yellow circle",
                          '<rect x="0" y="0" width="400" height="150" fill="#87ceeb"/>',
                          '<rect x="0" y="150" width="400" height="60" fill="#1e5aa8"/>',
                          '<rect x="0" y="210" width="400" height="90" fill="#f3e2a9"/>',
                          '<circle cx="335" cy="60" r="32" fill="#ffd34d"/>',
                          "I drew the sun a little too big, on purpose."])
    studio = Studio(db, settings.user, settings.home, lambda: model)
    piece = studio.compose(about)
    assert piece.said == "I wrote the waves into the low notes for you."
    assert piece.work.latest.character == character
    wav = studio.works.file(piece.work.id, 1, "audio").path
    assert wav is not None and wav.read_bytes()[8:12] == b"WAVE"
    sheet = studio.works.file(piece.work.id, 1, "sheet").path
    assert sheet is not None and "<svg" in sheet.read_text(encoding="utf-8")
    picture = studio.draw("us at the beach")
    assert picture.work.latest.plan[-1] == "sun: upper right, yellow circle"
    png = studio.works.file(picture.work.id, 1, "png").path
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not model.replies  # every scripted reply was asked for
