"""The gallery's API under ``os1 serve`` (``os1/making/routes.py``), through the real app
on the scripted model: works planted straight into the store (as the studio keeps them:
making one needs her model, which no route may use) are listed with every version, shown
one by one, their files served with the right type, name and headers (an SVG under a CSP
that lets nothing run), and removed with their files; a file gone from the disk is a 404,
never a 500; and one person never reaches another's works. Its web view is in
tests/integration/test_making_web_real.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from os1.config import Settings
from os1.making.records import Character, Version
from os1.making.routes import SVG_POLICY, file_name
from os1.making.works import Works
from os1.storage.accounts import user_id_of
from os1.storage.db import Database
from tests.unit.test_server import GatedModel, auth, serve, sign_up

API = "/api/skills/made"
CHARACTER = Character("D", "minor", 72, "3/4", 0, "Acoustic Grand Piano", "p", 8)
ABC = "X:1\nT:The beach\nM:3/4\nL:1/8\nQ:1/4=72\nK:Dm\nD2 F2 A2 | d6 |]\n"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32)
MIDI = b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0"
SHEET = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
DRAWING_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
               '<circle cx="5" cy="5" r="4" fill="#b8432f"/></svg>')
PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    client = serve(settings, GatedModel())
    yield client
    client.__exit__(None, None, None)


@pytest.fixture
def theo(client: TestClient) -> dict[str, str]:
    return auth(sign_up(client, "theo", display_name="Theo"))


@pytest.fixture
def works(settings: Settings, theo: dict[str, str]) -> Iterator[Works]:
    """Theo's works, as the studio keeps them."""
    db = Database.open(settings.storage)
    yield Works(db, user_id_of(db, "theo"), settings.home)
    db.close()


def music_files(tempo: int = 72) -> dict[str, bytes]:
    return {"abc": ABC.replace("=72", f"={tempo}").encode(), "midi": MIDI,
            "audio": WAV + bytes([tempo]), "sheet": SHEET.encode()}


def plant_piece(works: Works) -> int:
    """A piece about the beach in two versions: the first, then "slower"."""
    first = Version(0, "play me something about the beach", "It starts where the waves do.",
                    ABC, character=CHARACTER)
    work = works.add("music", "the beach at dawn", first, music_files())
    slower = replace(first, request="slower", her_words="Slower, like the tide going out.",
                     character=replace(CHARACTER, tempo=56))
    return works.revise(work.id, slower, music_files(56)).id


def plant_drawing(works: Works) -> int:
    version = Version(0, "draw the sun", "A warm red sun.", DRAWING_SVG,
                      plan=("a red circle in the middle",))
    return works.add("drawing", "a red sun", version,
                     {"svg": DRAWING_SVG.encode(), "png": PNG}).id


def error_of(response: Any) -> str:
    return str(response.json()["error"]["message"])


def test_works_are_listed_newest_first_with_every_version(
        client: TestClient, theo: dict[str, str], works: Works) -> None:
    piece, drawing = plant_piece(works), plant_drawing(works)
    listed = client.get(API, headers=theo)
    assert listed.status_code == 200, listed.text
    assert [(w["id"], w["kind"], w["title"]) for w in listed.json()] == \
        [(drawing, "drawing", "A red sun"), (piece, "music", "The beach at dawn")]
    music = listed.json()[1]
    assert [(v["number"], v["request"], v["her_words"]) for v in music["versions"]] == [
        (1, "play me something about the beach", "It starts where the waves do."),
        (2, "slower", "Slower, like the tide going out.")]
    assert [v["character"]["tempo"] for v in music["versions"]] == [72, 56]
    assert music["versions"][0]["character"] == {
        "key": "D", "mode": "minor", "tempo": 72, "meter": "3/4", "program": 0,
        "instrument": "Acoustic Grand Piano", "dynamics": "p", "bars": 8}
    assert music["versions"][1]["files"] == ["abc", "midi", "audio", "sheet"]
    assert music["about"] == "the beach at dawn" and music["versions"][0]["created_at"] > 0
    one = client.get(f"{API}/{drawing}", headers=theo).json()
    assert one["versions"] == [{
        "number": 1, "request": "draw the sun", "her_words": "A warm red sun.",
        "created_at": one["versions"][0]["created_at"], "character": None,
        "plan": ["a red circle in the middle"], "files": ["svg", "png"]}]


@pytest.mark.parametrize(("role", "media_type", "disposition"), [
    ("audio", "audio/wav", "inline"), ("midi", "audio/midi", "attachment"),
    ("sheet", "image/svg+xml", "inline"), ("abc", "text/plain; charset=utf-8", "attachment")])
def test_each_file_of_a_piece_is_served_with_its_type_and_name(
        client: TestClient, theo: dict[str, str], works: Works, role: str, media_type: str,
        disposition: str) -> None:
    piece = plant_piece(works)
    for number, tempo in ((1, 72), (2, 56)):
        got = client.get(f"{API}/{piece}/versions/{number}/{role}", headers=theo)
        assert got.status_code == 200, got.text
        assert got.content == music_files(tempo)[role]
        assert got.headers["content-type"] == media_type
        extension = {"audio": "wav", "midi": "mid", "sheet": "svg", "abc": "abc"}[role]
        assert got.headers["content-disposition"] == \
            f'{disposition}; filename="the-beach-at-dawn-v{number}.{extension}"'
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-length"] == str(len(got.content))


def test_an_svg_is_served_under_a_policy_that_lets_nothing_in_it_run(
        client: TestClient, theo: dict[str, str], works: Works) -> None:
    piece, drawing = plant_piece(works), plant_drawing(works)
    assert SVG_POLICY == "default-src 'none'; style-src 'unsafe-inline'"
    for path in (f"{piece}/versions/2/sheet", f"{drawing}/versions/1/svg"):
        got = client.get(f"{API}/{path}", headers=theo)
        assert got.status_code == 200 and got.headers["content-type"] == "image/svg+xml"
        assert got.headers["content-security-policy"] == SVG_POLICY
    png = client.get(f"{API}/{drawing}/versions/1/png", headers=theo)
    assert (png.status_code, png.content, png.headers["content-type"]) == \
        (200, PNG, "image/png")
    # a sound or a picture opened on its own is not kept from playing or showing
    assert "content-security-policy" not in png.headers
    sound = client.get(f"{API}/{piece}/versions/1/audio", headers=theo)
    assert "content-security-policy" not in sound.headers


def test_a_file_gone_from_the_disk_is_not_found_not_a_server_error(
        client: TestClient, theo: dict[str, str], works: Works) -> None:
    piece = plant_piece(works)
    audio = works.files.get(works.get(piece).versions[0].files["audio"])
    assert audio.path is not None
    audio.path.unlink()
    gone = client.get(f"{API}/{piece}/versions/1/audio", headers=theo)
    assert gone.status_code == 404, gone.text
    assert gone.json()["error"]["type"] == "not_found"
    assert error_of(gone) == "The audio of 'The beach at dawn' is gone."
    assert client.get(f"{API}/{piece}/versions/2/audio", headers=theo).status_code == 200
    no_version = client.get(f"{API}/{piece}/versions/3/audio", headers=theo)
    assert no_version.status_code == 404
    assert error_of(no_version) == "'The beach at dawn' has no audio in version 3."
    assert client.get(f"{API}/{piece}/versions/1/png", headers=theo).status_code == 404
    assert client.get(f"{API}/{piece}/versions/1/exe", headers=theo).status_code == 422
    assert client.get(f"{API}/0", headers=theo).status_code == 422
    assert client.get(f"{API}/{2**40}", headers=theo).status_code == 422


def test_one_person_never_reaches_anothers_works(
        client: TestClient, theo: dict[str, str], works: Works) -> None:
    amy = auth(sign_up(client, "amy"))
    piece = plant_piece(works)
    nothing = client.get(f"{API}/{piece + 1000}", headers=theo)
    tries = [client.get(f"{API}/{piece}", headers=amy),
             client.get(f"{API}/{piece}/versions/1/audio", headers=amy),
             client.get(f"{API}/{piece}/versions/2/sheet", headers=amy),
             client.delete(f"{API}/{piece}", headers=amy)]
    for tried in tries:
        assert tried.status_code == 404, tried.text
        assert tried.json()["error"]["type"] == "not_found"
        assert error_of(tried) == f"There is nothing {piece} that she made for you."
    assert error_of(nothing) == f"There is nothing {piece + 1000} that she made for you."
    assert client.get(API, headers=amy).json() == []
    assert [len(w["versions"]) for w in client.get(API, headers=theo).json()] == [2]
    assert client.get(API).status_code == 401
    assert client.get(f"{API}/{piece}/versions/1/audio").status_code == 401


def test_a_work_removed_is_gone_with_every_version_and_file(
        client: TestClient, theo: dict[str, str], works: Works) -> None:
    piece, drawing = plant_piece(works), plant_drawing(works)
    paths = [works.files.get(i).path for v in works.get(piece).versions
             for i in v.files.values()]
    assert len(paths) == 8 and all(p is not None and p.is_file() for p in paths)
    gone = client.delete(f"{API}/{piece}", headers=theo)
    assert gone.status_code == 200, gone.text
    assert (gone.json()["id"], gone.json()["title"], len(gone.json()["versions"])) == \
        (piece, "The beach at dawn", 2)
    assert client.get(f"{API}/{piece}", headers=theo).status_code == 404
    assert client.get(f"{API}/{piece}/versions/1/audio", headers=theo).status_code == 404
    assert client.delete(f"{API}/{piece}", headers=theo).status_code == 404
    assert not any(p is not None and p.exists() for p in paths)
    assert [w["id"] for w in client.get(API, headers=theo).json()] == [drawing]
    assert {a["skill"] for a in client.get("/api/artefacts", headers=theo).json()} == {"made"}


def test_a_file_name_holds_nothing_that_could_break_its_header() -> None:
    assert file_name('Our "day" at the beach; rm -rf /', 3, "audio") == \
        "our-day-at-the-beach-rm-rf-v3.wav"
    assert file_name("海辺", 1, "png") == "made-v1.png"
    assert file_name("A" * 100, 2, "midi") == "a" * 40 + "-v2.mid"


def test_the_gallery_view_is_served_under_the_views_policy(client: TestClient) -> None:
    view = client.get("/skills/made/")
    assert view.status_code == 200 and 'id="gallery-title"' in view.text
    assert 'href="/skills/made/"' in client.get("/").text, "the main page links to it"
    policy = view.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "media-src 'self' blob:" in policy
    for name in ("gallery.js", "gallery.css"):
        assert client.get(f"/skills/made/{name}").status_code == 200, name
    paths = client.get("/openapi.json").json()["paths"]
    assert {API, f"{API}/{{work_id}}", f"{API}/{{work_id}}/versions/{{number}}/{{role}}"} \
        <= set(paths)
