"""Data files: persona, prompts, setup script, steering. Read with ``load_*`` helpers."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from typing import Any

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def read_text(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def read_toml(name: str) -> dict[str, Any]:
    return tomllib.loads(read_text(name))


def fill(template: str, **values: str) -> str:
    """Replace ``{key}`` placeholders. Unlike ``str.format``, values are never re-parsed
    (a user named "{0}" can't break it) and other braces (JSON examples) are left alone."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
