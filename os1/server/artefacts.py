"""``GET /api/artefacts``: what her skills have made for the token's person (a letter, a
drawing), every skill's in one list. Only ever that person's; where the files lie in the
server's data dir is the server's business, so no path is given."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from os1.server.dependencies import Me, Reading, State
from os1.storage.artefacts import ArtefactStore

router = APIRouter(tags=["you"])


class ArtefactOut(BaseModel):
    id: int
    skill: str
    kind: str
    title: str
    created_at: float


@router.get("/api/artefacts", response_model=list[ArtefactOut])
def artefacts(account: Me, db: Reading, state: State,
              skill: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]{0,39}$")] = None,
              ) -> list[ArtefactOut]:
    """What her skills have made for you, newest first (one skill's, with ``skill``)."""
    found = ArtefactStore(db, account.user_id, state.settings.home).list(skill)
    return [ArtefactOut(id=a.id, skill=a.skill, kind=a.kind, title=a.title,
                        created_at=a.created_at) for a in found]
