"""What she made, over HTTP, for the web page's gallery: his works with every version,
each version's files (the sound, the sheet music, the drawing), and removing a work.
``os1 serve`` mounts this router under ``/api/skills/made`` behind the login token.

Whose works a request reaches comes only from ``RoutePerson`` (the token's person), so
someone else's work is "not there" (404), exactly as one that never was.

Why there is no route that makes or changes a work: that needs her model, which is
everyone's, one turn at a time; he asks her in a conversation turn instead.

Why an SVG is sent under a CSP of its own: her drawings and sheet music are checked
before they are kept, but a file is served as it lies on disk, and a browser that opens
it as a page must not run anything it holds, whatever got in.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any, BinaryIO, Literal, cast

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from os1.making.records import Character, Version, Work, WorkKind
from os1.making.works import EXTENSIONS, WorkNotFound, Works, slug
from os1.skills.route_person import RoutePerson

MAX_ID = 2**31 - 1  # the databases' INTEGER
CHUNK = 64 * 1024
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"

Role = Literal["abc", "midi", "audio", "sheet", "svg", "png"]
MEDIA_TYPES: dict[str, str] = {
    "abc": "text/plain; charset=utf-8", "midi": "audio/midi", "audio": "audio/wav",
    "sheet": "image/svg+xml", "svg": "image/svg+xml", "png": "image/png"}
DOWNLOADED = frozenset({"abc", "midi"})  # shown by no browser: saved instead


class MadeRoute(APIRoute):
    """Answers "no such work of yours" with 404 in the server's error shape (every other
    error is answered by the server's own handlers)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except WorkNotFound as error:
                return JSONResponse({"error": {"message": str(error), "type": "not_found",
                                               "hint": error.hint}}, 404)

        return handler


router = APIRouter(route_class=MadeRoute)

WorkId = Annotated[int, Path(ge=1, le=MAX_ID)]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_ID)]


def his_works(person: RoutePerson) -> Works:
    """The token's person's works (no model: a route can't have it)."""
    return Works(person.db, person.settings.user, person.settings.home)


HisWorks = Annotated[Works, Depends(his_works)]


class VersionOut(BaseModel):
    """One version: what he asked for, what she said of it, when, what the piece is like
    (music) or how she planned the drawing (drawings), and which files it has, by role."""

    number: int
    request: str
    her_words: str
    created_at: float
    character: Character | None
    plan: list[str]
    files: list[Role]


class WorkOut(BaseModel):
    """A piece or drawing with every version, oldest first."""

    id: int
    kind: WorkKind
    title: str
    about: str
    moment: str
    created_at: float
    versions: list[VersionOut]


def version_out(version: Version) -> VersionOut:
    roles = [cast(Role, role) for role in MEDIA_TYPES if role in version.files]
    return VersionOut(number=version.number, request=version.request,
                      her_words=version.her_words, created_at=version.created_at,
                      character=version.character, plan=list(version.plan), files=roles)


def work_out(work: Work) -> WorkOut:
    return WorkOut(id=work.id, kind=work.kind, title=work.title, about=work.about,
                   moment=work.moment, created_at=work.created_at,
                   versions=[version_out(v) for v in work.versions])


@router.get("", response_model=list[WorkOut])
def list_works(works: HisWorks) -> list[WorkOut]:
    """Everything she made for you, newest first, each with every version."""
    return [work_out(work) for work in works.all()]


@router.get("/{work_id}", response_model=WorkOut)
def get_work(works: HisWorks, work_id: WorkId) -> WorkOut:
    return work_out(works.get(work_id))


@router.get("/{work_id}/versions/{number}/{role}", response_class=StreamingResponse,
            responses={200: {"content": {t: {} for t in set(MEDIA_TYPES.values())}}})
def work_file(works: HisWorks, work_id: WorkId, number: VersionNumber,
              role: Role) -> StreamingResponse:
    """A version's file: its sound (WAV), MIDI, sheet music (SVG), ABC, or the drawing
    (SVG, PNG). Opened here, before the answer starts, so a file gone from the disk is
    a 404 and never a broken 200."""
    path = works.file(work_id, number, role).path
    try:
        if path is None:  # Works.file gives only a file that is there: never
            raise FileNotFoundError(role)
        handle = path.open("rb")
    except FileNotFoundError as exc:
        raise WorkNotFound(f"The {role} of work {work_id} is gone.") from exc
    return StreamingResponse(_chunks(handle), media_type=MEDIA_TYPES[role],
                             headers=_file_headers(works.get(work_id).title, number, role,
                                                   _size(handle)))


@router.delete("/{work_id}", response_model=WorkOut)
def remove_work(works: HisWorks, work_id: WorkId) -> WorkOut:
    """The work gone, with every version and its files."""
    return work_out(works.remove(work_id))


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _size(handle: BinaryIO) -> int:
    return os.fstat(handle.fileno()).st_size


def _file_headers(title: str, number: int, role: str, size: int) -> dict[str, str]:
    """How the file is named when saved, that its type is never guessed at, and for an
    SVG, that nothing in it may run or load."""
    disposition = "attachment" if role in DOWNLOADED else "inline"
    name = file_name(title, number, role)
    headers = {"Content-Disposition": f'{disposition}; filename="{name}"',
               "Content-Length": str(size), "X-Content-Type-Options": "nosniff",
               "Cache-Control": "private, no-store"}
    if MEDIA_TYPES[role] == "image/svg+xml":
        headers["Content-Security-Policy"] = SVG_POLICY
    return headers


def file_name(title: str, number: int, role: str) -> str:
    """"the-beach-v2.wav": ASCII letters, digits and dashes only, so the header can hold
    it between quotes whatever the title was."""
    return f"{slug(title)}-v{number}.{EXTENSIONS[role]}"
