"""SVG to PNG with resvg (Rust, through resvg-py), in a child process with a deadline.

Why a child process: a renderer is the part most exposed to whatever SVG arrives, and
a drawing built to be slow (or a bug in resvg) must not hang her or take the process
down with it; a child can be killed when its time is up, and its memory is capped. And
why sanitise here again, though every caller already has: a renderer that accepted
unchecked SVG would be one forgotten call away from reading a file or a URL.
"""

from __future__ import annotations

import subprocess
import sys

from os1.making.drawing.svg_safety import sanitise
from os1.making.errors import MakingError, RendererMissing, RenderTimeout

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_WIDTH = 4096
MEMORY_CAP = 1 << 30  # bytes the renderer may map: a 4096-wide picture needs ~100 MB
_MISSING = 3
# The child: no os1 import (fast to start), no site customisation, its memory capped.
_CHILD = f"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP}))
try:
    import resvg_py
except ImportError:
    sys.exit({_MISSING})
svg = sys.stdin.buffer.read().decode("utf-8")
png = resvg_py.svg_to_bytes(svg_string=svg, width=int(sys.argv[1]))
sys.stdout.buffer.write(bytes(png))
"""


def render_png(svg: str, *, width: int = 800, budget_s: float = 10) -> bytes:
    """The drawing as a PNG ``width`` pixels wide (its height in proportion)."""
    if not 1 <= width <= MAX_WIDTH:
        raise ValueError(f"width must be 1 to {MAX_WIDTH} pixels, not {width}")
    safe = sanitise(svg)
    try:
        done = subprocess.run([sys.executable, "-I", "-c", _CHILD, str(width)],
                              input=safe.encode("utf-8"), capture_output=True,
                              timeout=budget_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RenderTimeout(f"Rendering the drawing took over {budget_s:g} s and was "
                            "stopped.") from exc
    if done.returncode == _MISSING:
        raise RendererMissing("resvg-py, which turns her drawings into pictures, is not "
                              "installed.", "pip install 'os1[making]'")
    if done.returncode != 0 or not done.stdout.startswith(PNG_MAGIC):
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [
            f"exit status {done.returncode}"]
        raise MakingError(f"resvg could not render the drawing: {why[0][:200]}")
    return done.stdout
