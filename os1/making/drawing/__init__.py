"""Her drawings: the model plans a picture in words and writes it as SVG from a safe
subset, under grammars; every SVG (hers or one he brings) is sanitised before resvg
renders it to PNG in a child process with a deadline.

``draw``, ``revise`` and ``her_words`` are the draftsman's; ``sanitise`` and
``render_png`` serve any SVG.
"""

from os1.making.drawing.draftsman import draw, her_words, revise
from os1.making.drawing.svg_render import render_png
from os1.making.drawing.svg_safety import sanitise

__all__ = ["draw", "her_words", "render_png", "revise", "sanitise"]
