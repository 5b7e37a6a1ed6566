"""Which skills are installed: every object registered under the ``os1.skills`` entry-point
group, in ``order``. Mail and calendar are registered in os1's own pyproject.toml exactly
as a third-party package registers its skill, so ``pip install os1-skill-something`` adds
one without a change to os1 (as ``llm``'s plugins are found through pluggy's entry points).

Why a bad plugin is left out instead of stopping os1: one package's import error, or an
object that isn't a skill, must not take her mail, calendar and conversation down with it.
It is named, with the reason, in one warning, once per process.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from os1.skills.contract import Skill

GROUP = "os1.skills"
OWN_PACKAGE = "os1"
# A skill's name is its CLI group (``os1 <name>``) and its URL (``/api/skills/<name>``).
NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
PARTS = ("desk", "intents", "commands", "router", "view", "forget")

log = logging.getLogger(__name__)


@functools.cache
def installed_skills() -> tuple[Skill, ...]:
    """Every installed skill, lowest ``order`` first; read once per process
    (``installed_skills.cache_clear()`` reads the environment again)."""
    return load_skills(entry_points(group=GROUP))


def load_skills(points: Iterable[EntryPoint]) -> tuple[Skill, ...]:
    """The skills ``points`` name, each bad one left out with a warning. os1's own come
    first, then other packages by name, so a duplicate name is always the later
    package's to lose."""
    found: dict[str, Skill] = {}
    for point in sorted(points, key=lambda p: (_package(p) != OWN_PACKAGE, _package(p),
                                               p.name)):
        skill = _load(point)
        if skill is None:
            continue
        if skill.name in found:
            _leave_out(point, f"the name {skill.name!r} is taken by another skill")
            continue
        found[skill.name] = skill
    return tuple(sorted(found.values(), key=lambda s: (s.order, s.name)))


def _load(point: EntryPoint) -> Skill | None:
    try:
        loaded = point.load()
    except Exception as exc:  # a plugin's import may raise anything; os1 goes on without it
        _leave_out(point, f"it failed to import ({type(exc).__name__}: {exc})")
        return None
    why = _not_a_skill(loaded, point.name)
    if why:
        _leave_out(point, why)
        return None
    skill: Skill = loaded
    return skill


def _not_a_skill(loaded: object, registered: str) -> str:
    """Why ``loaded`` can't be the skill registered as ``registered`` ('' if it can)."""
    if isinstance(loaded, type):
        return f"{_described(loaded)} is a class; register an instance of it"
    missing = [part for part in PARTS if not callable(getattr(loaded, part, None))]
    if missing:
        return (f"{_described(loaded)} is not a skill (no {', '.join(missing)}; "
                "see os1.skills.contract.BaseSkill)")
    name, order = getattr(loaded, "name", None), getattr(loaded, "order", None)
    if name != registered:
        return f"its name {name!r} is not its entry point's, {registered!r}"
    if not NAME.fullmatch(registered):
        return (f"its name {registered!r} is not lowercase letters, digits and '-', "
                "starting with a letter (it is a command and a URL)")
    if not isinstance(order, int) or isinstance(order, bool):
        return f"its order is {order!r}, not a whole number"
    return ""


def _described(loaded: object) -> str:
    kind = loaded if isinstance(loaded, type) else type(loaded)
    return f"{kind.__module__}.{kind.__qualname__}"


def _package(point: EntryPoint) -> str:
    dist = point.dist
    return dist.name if dist is not None else "an unknown package"


def _leave_out(point: EntryPoint, why: str) -> None:
    log.warning("The skill %r (%s, from the package %s) is left out: %s.", point.name,
                point.value, _package(point), why)
