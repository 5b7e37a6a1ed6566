"""The letters skill's API under ``os1 serve`` (``os1/letters/routes.py``), through the
real app on the scripted model: letters added (typed, or from a .txt, .md or .docx),
shown, edited into versions and removed; her suggestions (put on a letter through
``Reviews.open``, as her reading does) accepted and rejected one by one, by kind or all;
the book's letters and its first pages; bad input refused precisely; and one person
never reaching another's letters. Its web view is in
tests/integration/test_letters_web_real.py."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import docx
import pytest
from fastapi.testclient import TestClient

from os1.config import Settings
from os1.letters.library import LetterLibrary
from os1.letters.records import Edit
from os1.letters.review import Reviews
from os1.letters.routes import author
from os1.skills.contract import Person
from os1.storage.accounts import user_id_of
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from tests.conftest import make_setup_record
from tests.unit.test_server import GatedModel, auth, serve, sign_up

API = "/api/skills/letters"
LETTER = "Dear Sam,\n\nI recieve your leter yesterday and I was so happy.\n\nLove, Theo"
# (start of the words, the words, her word, kind)
EDITS = [("recieve", "received", "spelling"), ("leter", "letter", "spelling"),
         ("yesterday and", "yesterday, and", "punctuation")]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    client = serve(settings, GatedModel())
    yield client
    client.__exit__(None, None, None)


@pytest.fixture
def theo(client: TestClient) -> dict[str, str]:
    return auth(sign_up(client, "theo", display_name="Theo"))


def add(client: TestClient, who: dict[str, str], text: str = LETTER,
        **extra: str) -> dict[str, Any]:
    made = client.post(f"{API}/letters", headers=who, json={"text": text, **extra})
    assert made.status_code == 201, made.text
    return dict(made.json()["letter"])


def suggest(settings: Settings, username: str, letter_id: int,
            edits: list[tuple[str, str, str]] = EDITS) -> None:
    """Her suggestions on the letter as it is now, as her reading would store them."""
    db = Database.open(settings.storage)
    try:
        user = user_id_of(db, username)
        library = LetterLibrary(db, user)
        letter = library.get(letter_id)
        found = []
        for words, replacement, kind in edits:
            start = letter.text.index(words)
            found.append(Edit(start, start + len(words), words, replacement, kind,  # type: ignore[arg-type]
                              f"“{words}” reads better as “{replacement}”.", "harper"))
        Reviews(db, user, library).open(letter, found)
    finally:
        db.close()


def error_of(response: Any) -> str:
    """The error's message (a TestClient's response is httpx's or httpx2's)."""
    return str(response.json()["error"]["message"])


def test_a_letter_added_is_listed_shown_and_edited_into_versions(
        client: TestClient, theo: dict[str, str]) -> None:
    letter = add(client, theo, written_for="Sam")
    assert (letter["title"], letter["written_for"], letter["version"]) == ("Dear Sam", "Sam", 1)
    assert letter["text"] == LETTER and letter["words"] == 14 and letter["suggestions"] == []
    listed = client.get(f"{API}/letters", headers=theo).json()
    assert [(x["id"], x["title"], x["chosen"], x["waiting"]) for x in listed] == \
        [(letter["id"], "Dear Sam", False, 0)]
    assert "text" not in listed[0]  # the list is light; a letter is read whole apart
    edited = client.patch(f"{API}/letters/{letter['id']}", headers=theo,
                          json={"text": LETTER.replace("so happy", "glad"), "title": "To Sam"})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["version"], edited.json()["title"]) == (2, "To Sam")
    same = client.patch(f"{API}/letters/{letter['id']}", headers=theo,
                        json={"text": LETTER.replace("so happy", "glad")})
    assert same.json()["version"] == 2  # the same text again adds no version
    versions = client.get(f"{API}/letters/{letter['id']}/versions", headers=theo).json()
    assert [(v["number"], v["text"], v["note"]) for v in versions] == [
        (1, LETTER, "added"), (2, LETTER.replace("so happy", "glad"), "edited")]
    first = client.get(f"{API}/letters/{letter['id']}/versions/1", headers=theo)
    assert first.json()["text"] == LETTER
    missing = client.get(f"{API}/letters/{letter['id']}/versions/3", headers=theo)
    assert missing.status_code == 404 and error_of(missing) == \
        f"Letter {letter['id']} has no version 3; it has 2."


def docx_file(*paragraphs: str) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "data", "text", "title"), [
    ("sam.docx", docx_file("Dear Sam,", "The snow came early."),
     "Dear Sam,\n\nThe snow came early.", "Dear Sam"),
    ("note.md", b"---\ntitle: First snow\n---\nDear *Sam*,\n\nIt snowed.\n",
     "Dear *Sam*,\n\nIt snowed.", "First snow"),
    ("plain.txt", b"\xef\xbb\xbfDear Amy,\r\nThank you.\r\n", "Dear Amy,\nThank you.", "Dear Amy"),
])
def test_a_letter_is_added_from_a_text_markdown_or_word_file(
        client: TestClient, theo: dict[str, str], name: str, data: bytes, text: str,
        title: str) -> None:
    made = client.post(f"{API}/letters/file", headers=theo, json={
        "name": name, "data": base64.b64encode(data).decode(), "written_for": "Sam"})
    assert made.status_code == 201, made.text
    letter = made.json()["letter"]
    assert (letter["text"], letter["title"], letter["written_for"]) == (text, title, "Sam")
    assert all(isinstance(n, str) for n in made.json()["notes"])


def test_bad_letters_are_refused_with_what_is_wrong_and_nothing_is_kept(
        client: TestClient, theo: dict[str, str]) -> None:
    def refused(path: str, body: dict[str, Any]) -> Any:
        # as JSON writes it (a lone surrogate escaped), which httpx's json= can't send
        answer = client.post(f"{API}/{path}", content=json.dumps(body),
                             headers={**theo, "Content-Type": "application/json"})
        assert answer.status_code in (400, 413, 422), answer.text
        return answer

    assert error_of(refused("letters", {"text": " \n\n "})) == \
        "The letter holds nothing but blank space."
    assert error_of(refused("letters", {"text": "a" * 200_001})) == \
        "The letter is 200,001 characters long; a letter can be at most 200,000."
    assert "control character (U+0007) on line 2" in error_of(
        refused("letters", {"text": "Dear Sam,\nA bell \x07 rang."}))
    assert "title must be one line of at most 120" in error_of(
        refused("letters", {"text": "Hello.", "title": "t" * 121}))
    assert "lone surrogate" in error_of(refused("letters", {"text": "Dear \ud800 Sam"}))
    pdf = base64.b64encode(b"%PDF-1.7 not a letter").decode()
    assert error_of(refused("letters/file", {"name": "letter.pdf", "data": pdf})).startswith(
        "letter.pdf is a PDF document")
    assert "isn't base64" in error_of(refused("letters/file", {"name": "a.txt", "data": "!!"}))
    assert refused("letters/file", {"name": "../a.txt", "data": ""}).status_code == 422
    too_big = refused("letters", {"text": "word " * 300_000})  # a 1.5 MB paste
    assert too_big.status_code == 413 and "larger than 1,048,576 bytes" in error_of(too_big)
    assert client.get(f"{API}/letters", headers=theo).json() == []


def test_her_suggestions_accepted_and_rejected_make_the_exact_next_version(
        client: TestClient, theo: dict[str, str], settings: Settings) -> None:
    letter = add(client, theo)
    suggest(settings, "theo", letter["id"])
    shown = client.get(f"{API}/letters/{letter['id']}", headers=theo).json()
    assert [(s["number"], s["original"], s["replacement"], s["decision"], s["fits"])
            for s in shown["suggestions"]] == [(1, "recieve", "received", "", True),
                                                (2, "leter", "letter", "", True),
                                                (3, "yesterday and", "yesterday, and", "", True)]
    assert shown["waiting"] == 3
    url = f"{API}/letters/{letter['id']}/suggestions/answer"
    one = client.post(url, headers=theo, json={"decision": "accepted", "numbers": [1]}).json()
    assert (one["accepted"], one["rejected"], one["waiting"]) == (1, 0, 2)
    assert one["letter"]["version"] == 1 and one["letter"]["text"] == LETTER  # not yet
    client.post(url, headers=theo, json={"decision": "rejected", "numbers": [3]})
    done = client.post(url, headers=theo, json={"decision": "accepted", "kind": "spelling"})
    assert done.status_code == 200, done.text
    after = done.json()
    assert (after["accepted"], after["rejected"], after["waiting"]) == (2, 1, 0)
    assert after["letter"]["text"] == \
        "Dear Sam,\n\nI received your letter yesterday and I was so happy.\n\nLove, Theo"
    assert after["letter"]["version"] == 2 and after["letter"]["suggestions"] == []
    db = Database.open(settings.storage)
    try:
        reviews = Reviews(db, user_id_of(db, "theo"), LetterLibrary(db, user_id_of(db, "theo")))
        assert reviews.rejected() == {("yesterday and", "yesterday, and")}  # not made again
    finally:
        db.close()
    none_left = client.post(url, headers=theo, json={"decision": "accepted"})
    assert none_left.status_code == 400 and "no suggestions of mine" in error_of(none_left)


def test_all_at_once_finish_early_and_suggestions_a_changed_letter_no_longer_fits(
        client: TestClient, theo: dict[str, str], settings: Settings) -> None:
    letter = add(client, theo)
    suggest(settings, "theo", letter["id"])
    url = f"{API}/letters/{letter['id']}/suggestions"
    assert client.post(f"{url}/answer", headers=theo,
                       json={"decision": "rejected"}).json()["letter"]["version"] == 1
    suggest(settings, "theo", letter["id"])
    client.post(f"{url}/answer", headers=theo, json={"decision": "accepted", "numbers": [2]})
    early = client.post(f"{url}/finish", headers=theo).json()
    assert early["letter"]["text"] == LETTER.replace("leter", "letter")
    assert (early["accepted"], early["waiting"], early["letter"]["version"]) == (1, 0, 2)
    suggest(settings, "theo", letter["id"], [("recieve", "received", "spelling")])
    client.patch(f"{API}/letters/{letter['id']}", headers=theo,
                 json={"text": "I recieve it.\n" + early["letter"]["text"]})
    stale = client.get(url, headers=theo).json()
    assert [s["fits"] for s in stale] == [False]
    refused = client.post(f"{url}/answer", headers=theo, json={"decision": "accepted"})
    assert refused.status_code == 400 and "has changed since I read it" in error_of(refused)
    assert client.get(f"{API}/letters/{letter['id']}", headers=theo).json()["version"] == 3
    both = client.post(f"{url}/answer", headers=theo,
                       json={"decision": "accepted", "numbers": [1], "kind": "spelling"})
    assert both.status_code == 422 and "not both" in error_of(both)
    unknown = client.post(f"{url}/answer", headers=theo,
                          json={"decision": "accepted", "numbers": [9]})
    assert unknown.status_code == 400 and "no suggestion 9" in error_of(unknown)


def test_letters_chosen_for_the_book_and_its_first_pages(
        client: TestClient, theo: dict[str, str]) -> None:
    none = client.get(f"{API}/book/preview", headers=theo)
    assert none.status_code == 404 and error_of(none).startswith("No letters are chosen")
    first, second = add(client, theo, written_for="Sam"), add(client, theo, "Dear Amy,\n\nYes.")
    chosen = client.put(f"{API}/letters/{second['id']}/chosen", headers=theo,
                        json={"chosen": True, "reason": "It says yes and nothing else."})
    assert chosen.json()["chosen"] and chosen.json()["chosen_reason"] == \
        "It says yes and nothing else."
    client.put(f"{API}/letters/{first['id']}/chosen", headers=theo, json={"chosen": True})
    book = client.get(f"{API}/book", headers=theo).json()
    assert [x["id"] for x in book["letters"]] == [first["id"], second["id"]]  # its order
    preview = client.get(f"{API}/book/preview?pages=2", headers=theo).json()
    pages = [base64.b64decode(p) for p in preview["pages"]]
    assert len(pages) == 2 and all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pages)
    assert preview["page_count"] == 4  # title, contents, a page for each letter
    client.put(f"{API}/letters/{first['id']}/chosen", headers=theo, json={"chosen": False})
    listed = client.get(f"{API}/letters", headers=theo).json()
    assert [(x["chosen"], x["chosen_reason"]) for x in listed] == [
        (False, ""), (True, "It says yes and nothing else.")]
    too_many = client.get(f"{API}/book/preview?pages=9", headers=theo)
    assert too_many.status_code == 422


def test_the_books_author_is_the_name_he_gave_at_setup(settings: Settings,
                                                     db: Database) -> None:
    person = Person(settings, db, lambda: GatedModel(), None, "the user")
    assert author(person) == "Anonymous"  # not "the user": no name given yet
    SetupStore(db, settings.user).save(make_setup_record(user_name="Theodore Twombly"))
    assert author(person) == "Theodore Twombly"


@pytest.mark.both_backends
def test_one_person_never_reaches_anothers_letters(client: TestClient, settings: Settings,
                                                   theo: dict[str, str]) -> None:
    amy = auth(sign_up(client, "amy"))
    letter = add(client, theo)
    suggest(settings, "theo", letter["id"])
    client.put(f"{API}/letters/{letter['id']}/chosen", headers=theo, json={"chosen": True})
    at = f"{API}/letters/{letter['id']}"
    tries = [client.get(at, headers=amy), client.get(f"{at}/versions", headers=amy),
             client.get(f"{at}/versions/1", headers=amy),
             client.get(f"{at}/suggestions", headers=amy),
             client.post(f"{at}/suggestions/answer", headers=amy, json={"decision": "rejected"}),
             client.post(f"{at}/suggestions/finish", headers=amy),
             client.patch(at, headers=amy, json={"text": "Mine now."}),
             client.put(f"{at}/chosen", headers=amy, json={"chosen": False}),
             client.delete(at, headers=amy)]
    for tried in tries:
        assert tried.status_code == 404, tried.text
        assert error_of(tried) == f"There is no letter {letter['id']} of yours."
        assert tried.json()["error"]["type"] == "not_found"
    assert client.get(f"{API}/letters", headers=amy).json() == []
    assert client.get(f"{API}/book", headers=amy).json() == {"letters": []}
    assert client.get(f"{API}/book/preview", headers=amy).status_code == 404
    still = client.get(at, headers=theo).json()  # all of it as it was
    assert (still["text"], still["version"], still["chosen"], still["waiting"]) == \
        (LETTER, 1, True, 3)
    assert client.get(f"{API}/letters", headers={}).status_code == 401


def test_a_letter_removed_is_gone_with_its_versions_and_suggestions(
        client: TestClient, theo: dict[str, str], settings: Settings) -> None:
    letter = add(client, theo)
    suggest(settings, "theo", letter["id"])
    gone = client.delete(f"{API}/letters/{letter['id']}", headers=theo)
    assert gone.status_code == 200 and gone.json()["title"] == "Dear Sam"
    for path in ("", "/versions", "/suggestions"):
        assert client.get(f"{API}/letters/{letter['id']}{path}", headers=theo).status_code == 404
    assert client.get(f"{API}/letters/0", headers=theo).status_code == 422
    assert client.get(f"{API}/letters/{2**40}", headers=theo).status_code == 422


def test_the_letters_view_is_served_and_the_page_leads_to_it(client: TestClient) -> None:
    view = client.get("/skills/letters/")
    assert view.status_code == 200 and "<h1 id=\"shelf-title\"" in view.text
    assert "script-src 'self';" in view.headers["content-security-policy"]
    for name in ("letters.js", "marks.js", "book.js", "reading.js", "dom.js", "letters.css"):
        assert client.get(f"/skills/letters/{name}").status_code == 200, name
    assert 'href="/skills/letters/"' in client.get("/").text
    paths = client.get("/openapi.json").json()["paths"]
    assert {f"{API}/letters", f"{API}/letters/{{letter_id}}/suggestions/answer",
            f"{API}/book/preview"} <= set(paths)
