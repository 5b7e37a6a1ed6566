"""She draws with the real bundled model: a drawing that passes the sanitiser, with
shapes that show and a PNG, and a revision that changes it. One drawing and one
revision only: each costs a minute or more of CPU."""

from __future__ import annotations

from xml.etree.ElementTree import fromstring

import pytest

from os1.llm.llama import LlamaModel
from os1.making.drawing import draw, revise, sanitise

pytestmark = pytest.mark.integration
SHAPES = {"rect", "circle", "ellipse", "line", "polyline", "polygon", "path", "text"}


def shape_count(svg: str) -> int:
    """Shapes in the drawing, the paper background not counted."""
    return sum(e.tag.split("}")[-1] in SHAPES for e in fromstring(svg).iter()) - 1


def test_she_draws_us_at_the_beach_and_darkens_the_sky(real_model: LlamaModel) -> None:
    drawing = draw(real_model, "us at the beach")
    assert sanitise(drawing.svg) == drawing.svg
    assert drawing.elements >= 3 and shape_count(drawing.svg) >= drawing.elements
    assert drawing.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert drawing.plan and all(": " in line for line in drawing.plan)

    darker = revise(real_model, drawing, "us at the beach", "make the sky darker")
    assert darker.svg != drawing.svg
    assert sanitise(darker.svg) == darker.svg
    assert darker.elements >= 3 and darker.png.startswith(b"\x89PNG")
