"""What the model wrote for one part of a drawing, made into safe shapes that show: each
element sanitised, coordinates clamped to the canvas, an unclosed filled path closed,
what cannot be repaired (or would not show) dropped.

Why per element and not per drawing: a 1.5B model writes a good sun next to a broken
tree; throwing the whole part away for the tree would lose the sun, and asking again
costs more than the repair.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from os1.making.drawing.svg_safety import (
    SHAPES,
    SVG_NS,
    URL,
    local,
    parse,
    sanitise,
)
from os1.making.errors import HostileSvg

WIDTH, HEIGHT = 400.0, 300.0  # the viewBox is ours (os1/data/drawing.toml says the same)
GRADIENTS = frozenset({"linearGradient", "radialGradient"})
X_ATTRS = ("x", "cx", "x1", "x2")
Y_ATTRS = ("y", "cy", "y1", "y2")
SIZE_LIMITS = {"width": WIDTH, "rx": WIDTH, "height": HEIGHT, "ry": HEIGHT,
               "r": WIDTH, "stroke-width": 20.0, "font-size": 72.0}
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
PATH_TOKEN = re.compile(r"[A-Za-z]|" + NUMBER.pattern)
FENCE = re.compile(r"```[a-zA-Z]*")
INSIDE_SVG = re.compile(r"<svg\b[^>]*>(.*?)(?:</svg>|$)", re.DOTALL | re.IGNORECASE)
ID = re.compile(r"""\bid\s*=\s*["']([^"']+)["']""")
OUR_PREFIX = re.compile(r"^(?:[pk]\d+)+")  # the prefixes _rename_ids gave before
MAX_TEXT = 40
GEOMETRY = frozenset({"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry",
                      "width", "height", "points", "d", "transform"})
COVERING = 0.7  # a later part's shape over this much of the canvas hides the picture


@dataclass
class Part:
    """One line of the plan drawn: its gradients and shapes (clean), how many of them
    show, and whether anything had to be repaired or dropped."""

    line: str
    gradients: list[Element] = field(default_factory=list)
    shapes: list[Element] = field(default_factory=list)
    visible: int = 0
    repaired: bool = False


@dataclass
class Drawn:
    """What the drawing holds so far: the geometry of each shape (a small model copies
    its last turn, colour changed or not) and how many parts are down."""

    geometry: set[str] = field(default_factory=set)
    parts: int = 0

    def add(self, part: Part) -> None:
        self.geometry.update(_geometry(shape) for shape in part.shapes)
        self.parts += bool(part.visible)


def part_from_reply(line: str, reply: str, prefix: str, drawn: Drawn) -> Part:
    """The model's reply for plan line ``line``, its gradient ids starting ``prefix``.
    A shape already in ``drawn`` is left out, and so is one that would paint over most
    of what is there (only the first part, the background, may cover the canvas)."""
    elements, repaired = _clean_elements(reply)
    part = Part(line, repaired=repaired)
    for element in elements:
        _take(part, element)
    for shape in list(part.shapes):
        copied = _geometry(shape) in drawn.geometry
        if copied or (drawn.parts and _covers_canvas(shape)):
            part.shapes.remove(shape)
            part.visible -= count_visible(shape)
            part.repaired = True
        drawn.geometry.add(_geometry(shape))
    drawn.parts += bool(part.visible)
    _rename_ids(part, prefix)
    return part


def _geometry(shape: Element) -> str:
    """The shape without its paint: where it is and what it is."""
    kept = {k: v for k, v in shape.attrib.items() if k in GEOMETRY}
    return f"{local(shape.tag)} {sorted(kept.items())} {(shape.text or '').strip()}"


def _covers_canvas(shape: Element) -> bool:
    box = _box(shape)
    if box is None:
        return False
    x0, y0, x1, y1 = max(box[0], 0), max(box[1], 0), min(box[2], WIDTH), min(box[3], HEIGHT)
    return (x1 - x0) * (y1 - y0) > COVERING * WIDTH * HEIGHT


def _box(shape: Element) -> tuple[float, float, float, float] | None:
    """The bounding box of a rect, circle or ellipse (others never cover the canvas
    in what the model writes)."""
    n = {k: _number(shape.get(k, "0")) or 0.0 for k in ("x", "y", "width", "height",
                                                        "cx", "cy", "r", "rx", "ry")}
    name = local(shape.tag)
    if name == "rect":
        return n["x"], n["y"], n["x"] + n["width"], n["y"] + n["height"]
    if name in ("circle", "ellipse"):
        rx, ry = (n["r"], n["r"]) if name == "circle" else (n["rx"], n["ry"])
        return n["cx"] - rx, n["cy"] - ry, n["cx"] + rx, n["cy"] + ry
    return None


def part_from_group(line: str, group: Element, prefix: str) -> Part:
    """A part of an earlier drawing (its ``<g id="partN">``), kept as it was but for
    its gradient ids, which now start ``prefix``."""
    part = Part(line)
    for element in group:
        name = local(element.tag)
        if name == "defs":
            part.gradients.extend(e for e in element if local(e.tag) in GRADIENTS)
        elif name in SHAPES or name == "g":
            part.shapes.append(element)
            part.visible += count_visible(element)
    _rename_ids(part, prefix)
    return part


def _clean_elements(reply: str) -> tuple[list[Element], bool]:
    """The reply's elements, sanitised: all at once where the reply is sound, else line
    by line, the lines that fail left out (so a gradient still reaches its shape)."""
    text, dangling = _without_dangling(_svg_text(reply))
    try:
        return list(parse(_wrapped(text, sanitised=True))), dangling
    except HostileSvg:
        pass
    good = [line for line in text.splitlines() if line.strip() and _sound(line)]
    if not good:
        return [], True
    try:
        return list(parse(_wrapped("\n".join(good), sanitised=True))), True
    except HostileSvg:
        return [], True


def _svg_text(reply: str) -> str:
    """The SVG in a reply: without Markdown fences, inside its <svg> if it wrote one."""
    text = FENCE.sub("", reply)
    inside = INSIDE_SVG.search(text)
    return inside.group(1) if inside else text


def _without_dangling(text: str) -> tuple[str, bool]:
    """The lines of ``text`` whose url(#id) are defined in it: a sky whose gradient is
    missing would otherwise be painted black."""
    ids = set(ID.findall(text))
    lines = text.splitlines()
    kept = [line for line in lines
            if all(m.group(2).strip()[1:] in ids for m in URL.finditer(line))]
    return "\n".join(kept), len(kept) != len(lines)


def _wrapped(text: str, sanitised: bool) -> str:
    svg = f'<svg xmlns="{SVG_NS}">{text}</svg>'
    return sanitise(svg) if sanitised else svg


def _sound(line: str) -> bool:
    try:
        _wrapped(line, sanitised=True)
    except HostileSvg:
        return False
    return True


def _take(part: Part, element: Element) -> None:
    name = local(element.tag)
    if name in GRADIENTS:
        if element.get("id") and any(local(s.tag) == "stop" for s in element):
            part.gradients.append(element)
        else:
            part.repaired = True
    elif name == "defs":
        for child in element:
            _take(part, child)
    elif name in SHAPES or name == "g":
        kept, changed = repaired(element)
        part.repaired |= changed or kept is None
        if kept is not None:
            part.shapes.append(kept)
            part.visible += count_visible(kept)
    else:
        part.repaired = True


def repaired(element: Element) -> tuple[Element | None, bool]:
    """The shape clamped to the canvas and closed, or None where it cannot show; and
    whether anything changed."""
    name = local(element.tag)
    if name == "g":
        return _repaired_group(element)
    if name not in SHAPES:
        return None, True
    changed = _clamp_attributes(element)
    if name in ("polyline", "polygon"):
        changed |= _clamp_points(element)
    elif name == "path":
        changed |= _repair_path(element)
    elif name == "text":
        changed |= _trim_text(element)
    if not _shows(element):
        return None, True
    return element, changed


def _repaired_group(group: Element) -> tuple[Element | None, bool]:
    changed = False
    for child in list(group):
        kept, child_changed = repaired(child)
        changed |= child_changed
        if kept is None:
            group.remove(child)
    return (group if len(group) else None), changed


def _clamp_attributes(element: Element) -> bool:
    changed = False
    limits = {**dict.fromkeys(X_ATTRS, WIDTH), **dict.fromkeys(Y_ATTRS, HEIGHT),
              **SIZE_LIMITS}
    for name, top in limits.items():
        value = element.get(name)
        if value is None:
            continue
        number = _number(value)
        clamped = 0.0 if number is None else min(max(number, 0.0), top)
        if number is None or clamped != number:
            element.set(name, _format(clamped))
            changed = True
    return changed


def _clamp_points(element: Element) -> bool:
    numbers = [float(n) for n in NUMBER.findall(element.get("points", ""))]
    clamped = [min(max(n, 0.0), WIDTH if i % 2 == 0 else HEIGHT)
               for i, n in enumerate(numbers[: len(numbers) // 2 * 2])]
    text = " ".join(f"{_format(x)},{_format(y)}" for x, y in zip(clamped[::2],
                                                                   clamped[1::2], strict=True))
    changed = clamped != numbers
    element.set("points", text)
    return changed


def _repair_path(element: Element) -> bool:
    tokens = PATH_TOKEN.findall(element.get("d", ""))
    if not tokens or tokens[0] not in "Mm":
        element.set("d", "")
        return True
    clamped = list(_clamped_path(tokens))
    changed = clamped != tokens
    filled = element.get("fill", "black") != "none"
    if filled and clamped[-1] not in "Zz":
        clamped.append("Z")
        changed = True
    element.set("d", " ".join(clamped))
    return changed


def _clamped_path(tokens: list[str]) -> Iterator[str]:
    """Absolute coordinates clamped to the canvas; relative ones and arc radii to twice
    its size (their place on the canvas is not known without following the path)."""
    command, index = "M", 0
    for token in tokens:
        if token.isalpha():
            command, index = token, 0
            yield token
            continue
        yield _format(_clamp_path_number(command, index, float(token)))
        index += 1


def _clamp_path_number(command: str, index: int, number: float) -> float:
    axis = _path_axis(command.upper(), index)
    if command.islower() or axis is None:
        return min(max(number, -2 * WIDTH), 2 * WIDTH)
    return min(max(number, 0.0), WIDTH if axis == "x" else HEIGHT)


def _path_axis(command: str, index: int) -> str | None:
    if command == "H":
        return "x"
    if command == "V":
        return "y"
    if command == "A":
        return {5: "x", 6: "y"}.get(index % 7)
    return "x" if index % 2 == 0 else "y"


def _trim_text(element: Element) -> bool:
    text = " ".join("".join(element.itertext()).split())
    changed = text != (element.text or "") or len(element)
    for child in list(element):
        element.remove(child)
    element.text = text[:MAX_TEXT]
    return bool(changed or len(text) > MAX_TEXT)


def _shows(element: Element) -> bool:
    """Whether the shape paints anything: a size, a paint, some opacity."""
    if (_number(element.get("opacity", "1")) or 0.0) <= 0.0:
        return False
    painted = element.get("fill") != "none" or element.get("stroke", "none") != "none"
    return painted and _has_size(element) and _on_canvas(element)


def _on_canvas(element: Element) -> bool:
    """Whether a rect, circle or ellipse reaches into the canvas (a clamped x of 400
    leaves a rect outside it)."""
    box = _box(element)
    return box is None or (box[2] > 0 and box[0] < WIDTH and box[3] > 0 and box[1] < HEIGHT)


def _has_size(element: Element) -> bool:
    size: dict[str, Callable[[Element], bool]] = {
        "rect": lambda e: _positive(e, "width") and _positive(e, "height"),
        "circle": lambda e: _positive(e, "r"),
        "ellipse": lambda e: _positive(e, "rx") and _positive(e, "ry"),
        "line": lambda e: (e.get("x1"), e.get("y1")) != (e.get("x2"), e.get("y2"))
                          and e.get("stroke", "none") != "none",
        "polyline": lambda e: len(set(e.get("points", "").split())) >= 2,
        "polygon": lambda e: len(set(e.get("points", "").split())) >= 3,
        "path": lambda e: len(NUMBER.findall(e.get("d", ""))) >= 4,
        "text": lambda e: bool((e.text or "").strip()),
    }
    return size[local(element.tag)](element)


def _positive(element: Element, name: str) -> bool:
    return (_number(element.get(name, "0")) or 0.0) > 0.0


def count_visible(element: Element) -> int:
    """The shapes in ``element`` (itself, or a group's) that paint something."""
    if local(element.tag) == "g":
        return sum(count_visible(child) for child in element)
    return int(local(element.tag) in SHAPES and _shows(element))


def _rename_ids(part: Part, prefix: str) -> None:
    """Gradient ids made unique to the part ("sky" twice in one drawing would clash)."""
    names = {g.get("id", ""): prefix + (OUR_PREFIX.sub("", g.get("id", "")) or "g")
             for g in part.gradients}
    for gradient in part.gradients:
        gradient.set("id", names[gradient.get("id", "")])
    for shape in part.shapes:
        for element in shape.iter():
            for attribute, value in element.attrib.items():
                element.set(attribute, URL.sub(
                    lambda m: f"url(#{_renamed(names, m.group(2))})", value))


def _renamed(names: dict[str, str], target: str) -> str:
    key = target.strip()[1:]
    return names.get(key, key)


def _number(value: str) -> float | None:
    match = NUMBER.match(value.strip())
    return float(match.group()) if match else None


def _format(number: float) -> str:
    return str(int(number)) if number == int(number) else f"{number:.1f}"
