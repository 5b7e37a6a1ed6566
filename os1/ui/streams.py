"""Her way out to the terminal or pipe, kept from before any model loads.

Why: llama.cpp, told to be quiet (``verbose=False``), silences a model load by pointing
file descriptors 1 and 2 at /dev/null and swapping ``sys.stdout`` and ``sys.stderr`` for
the whole process until it is done. The memory worker loads its own model in a thread
while she answers, and a desk's answer (her mail, read out) takes no time at all: piped
``os1 chat`` wrote such answers into /dev/null, and printed nothing for replies her
history shows she gave (issue 25). Two loads at once can even leave descriptor 1 on
/dev/null for good. A duplicate of the descriptor, taken while it still points where the
user sent it, is moved by none of that.
"""

from __future__ import annotations

import os
from typing import TextIO


def kept(stream: TextIO) -> TextIO:
    """A file writing where ``stream`` writes now, that stays there whatever later
    happens to descriptors 1 and 2 or to ``sys.stdout``/``sys.stderr``. A stream without
    a descriptor of its own (a test's StringIO) is its own keeper."""
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return stream
    stream.flush()
    return open(os.dup(descriptor), "w", encoding=stream.encoding,
                errors=stream.errors, closefd=True)
