"""Whose request a skill's server route serves, without the skill knowing the server.

A skill's ``router()`` is a FastAPI ``APIRouter``; ``os1 serve`` mounts it under
``/api/skills/<name>`` behind the same bearer token as every route, and fills a route's
``person: RoutePerson`` parameter with the ``Person`` of that token (their settings,
a database connection of the request's own, their memories by words, their name). So a
skill never reads a token or takes a user id, and never imports ``os1.server``: one
person's request can only ever reach that person's rows.

``person.model`` raises: the model is shared by everyone's turns, one at a time, so work
for the model is proposed in a conversation turn, not done in a route.

Only a skill that has routes imports this module (it needs ``os1[server]``'s FastAPI).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from os1.skills.contract import Person


def route_person() -> Person:
    """Replaced by ``os1 serve`` (``app.dependency_overrides``) with the token's person."""
    raise RuntimeError("Only os1 serve can say whose request this is: mount the skill's "
                       "router through it, not on an app of its own.")


RoutePerson = Annotated[Person, Depends(route_person)]
