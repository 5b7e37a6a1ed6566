"""The drawing around her parts: our <svg> wrapper (size, viewBox, a paper background)
and one group a part, ``<g id="partN">``, its gradients in the group's own <defs>.

Why a group per part: a revision that keeps a part ("make the sky darker" keeps the
house) finds it again by its number, with its gradients, and draws only what changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from xml.etree.ElementTree import Element, SubElement

from os1.data import read_toml
from os1.making.drawing.shapes import Part
from os1.making.drawing.svg_safety import local, parse, serialise


@cache
def _canvas() -> tuple[int, int, str]:
    canvas = read_toml("drawing.toml")["canvas"]
    return int(canvas["width"]), int(canvas["height"]), str(canvas["background"])


def assemble(parts: Sequence[Part]) -> str:
    """The SVG of the parts that show, back to front, numbered from 1."""
    width, height, background = _canvas()
    svg = Element("svg", {"width": str(width), "height": str(height),
                          "viewBox": f"0 0 {width} {height}"})
    SubElement(svg, "rect", {"x": "0", "y": "0", "width": str(width),
                             "height": str(height), "fill": background})
    for number, part in enumerate((p for p in parts if p.visible), start=1):
        group = SubElement(svg, "g", {"id": f"part{number}"})
        if part.gradients:
            SubElement(group, "defs").extend(part.gradients)
        group.extend(part.shapes)
    return serialise(svg)


def groups(svg: str) -> dict[int, Element]:
    """The parts of a drawing she made, by number (a group not hers is left out)."""
    found = {}
    for group in parse(svg):
        name = group.get("id", "")
        if local(group.tag) == "g" and name.startswith("part") and name[4:].isdigit():
            found[int(name[4:])] = group
    return found
