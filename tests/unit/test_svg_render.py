"""resvg renders her drawings in a child process: a real PNG of the asked width, the
SVG sanitised first, and a render over its budget stopped."""

from __future__ import annotations

import struct
import time

import pytest

from os1.making.drawing.svg_render import render_png
from os1.making.errors import HostileSvg, RenderTimeout

NS = "http://www.w3.org/2000/svg"
DRAWING = (f'<svg xmlns="{NS}" width="400" height="300" viewBox="0 0 400 300">'
           '<rect width="400" height="300" fill="#cfe8ff"/>'
           '<circle cx="335" cy="60" r="32" fill="#ffd34d"/>'
           '<text x="20" y="280" font-size="20">hello</text></svg>')


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def test_a_drawing_becomes_a_png_of_the_asked_width() -> None:
    png = render_png(DRAWING, width=800)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png_size(png) == (800, 600)
    assert png_size(render_png(DRAWING, width=200)) == (200, 150)


def test_the_picture_has_the_drawn_colours() -> None:
    """Not an empty canvas: the PNG of a sky differs from the PNG of a night."""
    night = DRAWING.replace("#cfe8ff", "#101030")
    assert render_png(DRAWING, width=100) != render_png(night, width=100)


def test_a_render_over_budget_is_stopped() -> None:
    heavy = (f'<svg xmlns="{NS}" width="4096" height="4096" viewBox="0 0 4096 4096">'
             + "".join(f'<circle cx="{i * 2}" cy="{i * 2}" r="3000" fill="#{i % 256:02x}8040" '
                       'opacity="0.5"/>' for i in range(1999)) + "</svg>")
    started = time.monotonic()
    with pytest.raises(RenderTimeout, match="over 1 s"):
        render_png(heavy, width=4096, budget_s=1)
    assert time.monotonic() - started < 5  # stopped, not waited for


def test_hostile_svg_never_reaches_the_renderer() -> None:
    with pytest.raises(HostileSvg):
        render_png(DRAWING.replace("<rect", '<image href="file:///etc/passwd"/><rect'))


def test_an_absurd_width_is_refused() -> None:
    with pytest.raises(ValueError, match="width"):
        render_png(DRAWING, width=100_000)
