"""The house's seams, read from the source (issue 24): no package imports one that imports
it back, each package imports only the layers below it, no module reaches for another's
private names, and no module grows past 400 lines.

Why from the syntax tree and not at import time: an import inside a function (the usual
way round a cycle) is a dependency all the same, and so is one made only for the type
checker; Python would hide both until the function runs. A failure names the files, so
the fix starts from the message.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import os1

ROOT = Path(os1.__file__).parent
MAX_LINES = 400
# Who may import whom, by package (os1/<package>/, or a top-level module as its own):
# a package imports only packages of a lower layer. Faces (what a person talks to) may
# import each other; mail, calendar, letters and making may import ui for their command
# groups' helpers, and calendar may import mail (it reads mail for meetings).
LAYERS: dict[str, int] = {
    "errors": 0, "visible_text": 0, "data": 0, "when": 0,
    "storage": 1,
    "config": 2,
    "llm": 3,
    "memory": 4,
    "skills": 5,
    "mail": 6,
    "calendar": 7, "letters": 7, "making": 7,
    "mind": 8,
    "life": 9,
    "ui": 10, "voice": 10, "server": 10, "cli": 10, "web": 10, "__main__": 10, "os1": 10,
}
FACES = 10
ALSO_ALLOWED = {("mail", "ui"), ("calendar", "ui"), ("letters", "ui"), ("making", "ui")}


@dataclass(frozen=True)
class Import:
    """One module naming another (``names``: what a ``from`` import takes from it)."""

    source: str
    target: str
    names: tuple[str, ...]
    file: Path
    line: int

    def where(self) -> str:
        return f"{self.file.relative_to(ROOT.parent)}:{self.line}"


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    """``os1.mail.desk`` is in ``mail``; a top-level module (``os1.config``) is its own."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


MODULES = {module_of(path): path for path in sorted(ROOT.rglob("*.py"))}
TREES = {module: ast.parse(path.read_text(encoding="utf-8"), str(path))
         for module, path in MODULES.items()}


def resolved(source: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a ``from`` import reads from (relative ones resolved)."""
    if node.level == 0:
        return node.module or ""
    package = source.split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[:len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(source: str) -> Iterator[Import]:
    return imports_in(TREES[source], source, MODULES[source])


def imports_in(tree: ast.Module, source: str, path: Path) -> Iterator[Import]:
    """Every os1 module ``source`` imports, wherever the import statement stands. From
    ``from os1.mail import desk`` the module is ``os1.mail.desk``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "os1":
                    yield Import(source, alias.name, (), path, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            target = resolved(source, path, node)
            if target.split(".")[0] != "os1":
                continue
            plain = []
            for alias in node.names:
                if f"{target}.{alias.name}" in MODULES:
                    yield Import(source, f"{target}.{alias.name}", (), path, node.lineno)
                else:
                    plain.append(alias.name)
            if plain:
                yield Import(source, target, tuple(plain), path, node.lineno)


IMPORTS = [found for module in MODULES for found in imports_of(module)]


def package_edges() -> dict[str, dict[str, list[Import]]]:
    edges: dict[str, dict[str, list[Import]]] = defaultdict(lambda: defaultdict(list))
    for found in IMPORTS:
        source, target = package_of(found.source), package_of(found.target)
        if source != target:
            edges[source][target].append(found)
    return edges


def strongly_connected(edges: dict[str, dict[str, list[Import]]]) -> list[list[str]]:
    """Tarjan's components of more than one package: each holds at least one cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, {})):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def shortest_cycle(start: str, members: list[str],
                   edges: dict[str, dict[str, list[Import]]]) -> list[str]:
    """The shortest way from ``start`` back to itself inside one component."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(edges.get(node, {})):
                if nxt == start:
                    return [*paths[node], start]
                if nxt in members and nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    following.append(nxt)
        frontier = following
    return [start]


def describe_cycles(members: list[str], edges: dict[str, dict[str, list[Import]]]) -> str:
    """The shortest cycle through each package of a component, with the importing files
    of each step (each step once)."""
    lines, told = [f"{', '.join(members)} import each other:"], set()
    for member in members:
        cycle = shortest_cycle(member, members, edges)
        if frozenset(pairwise(cycle)) in told:
            continue
        told.add(frozenset(pairwise(cycle)))
        lines.append("  " + " -> ".join(cycle))
        for a, b in pairwise(cycle):
            lines += [f"    {a} -> {b}: {i.where()} imports {i.target}"
                      for i in edges[a][b][:3]]
            if len(edges[a][b]) > 3:
                lines.append(f"    ... and {len(edges[a][b]) - 3} more")
    return "\n".join(lines)


def test_the_walk_sees_every_kind_of_import() -> None:
    """The walk itself: imports inside functions, ``from os1 import module`` and relative
    imports all count (a walk that missed them would pass a cyclic house)."""
    tree = ast.parse("from os1.llm.base import Model\n"
                     "def f():\n    from os1.mind import companion\n    import os1.memory.notes\n"
                     "from .. import config\n")
    found = {(i.target, i.names)
             for i in imports_in(tree, "os1.probe.inner", ROOT / "probe" / "inner.py")}
    assert found == {("os1.llm.base", ("Model",)), ("os1.mind.companion", ()),
                     ("os1.memory.notes", ()), ("os1.config", ())}
    assert package_of("os1.mail.desk") == "mail" and package_of("os1.config") == "config"


def test_a_cycle_is_found_and_told_with_its_files() -> None:
    def step(source: str, target: str) -> list[Import]:
        return [Import(f"os1.{source}.x", f"os1.{target}.y", (), ROOT / source / "x.py", 3)]

    edges = {"mind": {"memory": step("mind", "memory")},
             "memory": {"when": step("memory", "when"), "mind": step("memory", "mind")},
             "when": {}}
    assert strongly_connected(edges) == [["memory", "mind"]]
    told = describe_cycles(["memory", "mind"], edges)
    assert "memory -> mind -> memory" in told and "os1/memory/x.py:3 imports os1.mind.y" in told


def test_no_package_imports_one_that_imports_it_back() -> None:
    edges = package_edges()
    cycles = [describe_cycles(members, edges) for members in strongly_connected(edges)]
    assert not cycles, "package import cycles:\n" + "\n".join(cycles)


def test_each_package_imports_only_the_layers_below_it() -> None:
    edges = package_edges()
    named = {package_of(m) for m in MODULES} | {package_of(i.target) for i in IMPORTS}
    unplaced = sorted(named - set(LAYERS))
    assert not unplaced, f"packages with no layer (add them to LAYERS and the docs): {unplaced}"
    wrong = []
    for source, targets in sorted(edges.items()):
        for target, found in sorted(targets.items()):
            below = LAYERS[target] < LAYERS[source]
            faces = LAYERS[source] == LAYERS[target] == FACES
            if not (below or faces or (source, target) in ALSO_ALLOWED):
                wrong += [f"{source} (layer {LAYERS[source]}) -> {target} (layer "
                          f"{LAYERS[target]}): {i.where()} imports {i.target}" for i in found]
    assert not wrong, "imports from a layer above:\n" + "\n".join(wrong)


def private_uses(tree: ast.Module, source: str, path: Path) -> Iterator[str]:
    """``from os1.x import _name`` and ``module._name`` where the module is another."""
    aliases: dict[str, str] = {}
    for found in imports_in(tree, source, path):
        if found.target != source:
            yield from (f"{found.where()} imports {found.target}.{name}"
                        for name in found.names if is_private(name))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            target = resolved(source, path, node)
            for alias in node.names:
                if f"{target}.{alias.name}" in MODULES:
                    aliases[alias.asname or alias.name] = f"{target}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            owner = dotted(node.value, aliases)
            if owner in MODULES and owner != source:
                yield (f"{path.relative_to(ROOT.parent)}:{node.lineno} uses "
                       f"{owner}.{node.attr}")


def dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """The module an expression like ``desk`` or ``os1.mail.desk`` names, if it does."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = dotted(node.value, aliases)
        return None if base is None else f"{base}.{node.attr}"
    return None


def test_the_walk_sees_private_names_taken_or_reached_for() -> None:
    tree = ast.parse("from os1.errors import _hidden, OS1Error\nimport os1.storage.db as db\n"
                     "from os1.storage import sqlite\nimport os1.config\n"
                     "db._secret\nsqlite._x\nos1.config._y\ndb.__name__\nself._mine\n")
    found = list(private_uses(tree, "os1.probe", ROOT / "probe.py"))
    assert [use.split(" ", 1)[1] for use in found] == [
        "imports os1.errors._hidden", "uses os1.storage.db._secret",
        "uses os1.storage.sqlite._x", "uses os1.config._y"]


def test_no_module_uses_another_modules_private_names() -> None:
    found = [use for module, path in MODULES.items()
             for use in private_uses(TREES[module], module, path)]
    assert not found, "private names used from another module:\n" + "\n".join(found)


def test_no_module_is_over_400_lines() -> None:
    long = sorted((len(path.read_text(encoding="utf-8").splitlines()), module)
                  for module, path in MODULES.items())
    over = [f"{MODULES[module].relative_to(ROOT.parent)}: {lines} lines"
            for lines, module in long if lines > MAX_LINES]
    assert not over, f"modules over {MAX_LINES} lines (split along a real seam):\n" \
        + "\n".join(over)
