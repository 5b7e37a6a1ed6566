"""What the benchmarks share: the conversation partner they set her up with, and where
their numbers came from (machine, library versions, the os1 commit and the hashes of the
data files that shape her, which change often), recorded beside every result."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from os1.data import read_text
from os1.storage.setups import SetupRecord

SETUP = SetupRecord(
    user_name="Theo",
    answers={"name": "Theo", "social": "Social, but I've kept to myself since my divorce.",
             "mother": "Complicated. She loves me but never really listens.",
             "hope": "Someone curious to talk to at the end of the day."},
    voice="female",
    companion_name="Mira",
    name_reason="It means wonder, and wondering is most of what I do.",
)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def unpack(variant: str, into: Path) -> Path:
    """The os1 package a variant runs, for benchmarks that compare versions: a copy of the
    working tree's (``now`` or ``raw``: editing it while the benchmark runs, or before a
    resumed run, changes nothing), or the package as it was at a commit. Kept where
    ``into`` says, for a resumed run to play the same."""
    root = Path(__file__).resolve().parent.parent
    if into.exists():
        return into
    into.mkdir(parents=True)
    if variant in ("now", "raw"):
        shutil.copytree(root / "os1", into / "os1", ignore=shutil.ignore_patterns("__pycache__"))
        return into
    archive = subprocess.run(["git", "archive", variant, "os1"], cwd=root, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {"cores": os.cpu_count(), "platform": platform.platform(),
            "processor": cpu_name(), "python": platform.python_version(),
            "llama_cpp_python": llama_cpp_version(), "loadavg_at_start": list(load),
            "os1": os1_revision()}


def os1_revision() -> dict[str, Any]:
    """The git commit the numbers belong to, and whether the working tree had changes (the
    persona and steering data move often; their hashes say exactly which were measured)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                  timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip()

    data = {name: hashlib.sha256(read_text(name).encode("utf-8")).hexdigest()[:12]
            for name in ("persona.toml", "steering.toml")}
    return {"commit": git("rev-parse", "--short", "HEAD") or "?",
            "dirty": bool(git("status", "--porcelain", "--", "os1")), "data_sha256": data}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def llama_cpp_version() -> str:
    import llama_cpp

    return str(getattr(llama_cpp, "__version__", "?"))
