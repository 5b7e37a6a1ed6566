"""Assembling the bundled model from its part packages, verified by size and sha256; and
refusing model files that are not GGUF before llama.cpp sees them."""

from __future__ import annotations

import hashlib
import os
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from os1.errors import ModelFileError
from os1.llm import bundled
from os1.llm.bundled import BundledModel, ZippedModel, ensure_assembled
from os1.llm.llama import check_gguf

PART_SIZES = (5000, 7001, 3)


@dataclass
class Progress:
    """An ``on_start`` that records what long work was started and how far it got."""

    started: list[tuple[str, int]] = field(default_factory=list)
    done: list[int] = field(default_factory=list)

    def __call__(self, description: str, total: int) -> Callable[[int], None]:
        self.started.append((description, total))
        self.done.append(0)
        index = len(self.done) - 1

        def advance(n: int) -> None:
            self.done[index] += n

        return advance


@dataclass
class Parts:
    model: BundledModel
    root: Path
    content: bytes

    def part_file(self, n: int) -> Path:
        return self.root / f"{self.model.package_prefix}{n}" / "data" / f"part{n:02d}.bin"


@pytest.fixture
def parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Parts:
    """Three tiny part packages on sys.path, named uniquely so no import cache interferes."""
    prefix = f"fakepart{uuid.uuid4().hex[:8]}p"
    root = tmp_path / "site"
    blobs = [os.urandom(size) for size in PART_SIZES]
    for n, blob in enumerate(blobs, start=1):
        package = root / f"{prefix}{n}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{n:02d}.bin").write_bytes(blob)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr(bundled, "CHUNK", 1024)  # several chunks per part
    content = b"".join(blobs)
    model = BundledModel(file_name="tiny.gguf", package_prefix=prefix, parts=len(blobs),
                         size=len(content), sha256=hashlib.sha256(content).hexdigest())
    return Parts(model, root, content)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def no_reading(path: Path) -> Iterator[bytes]:
    raise AssertionError(f"{path} was read")


def test_part_paths_point_into_the_packages(parts: Parts) -> None:
    assert parts.model.part_paths() == [parts.part_file(n) for n in (1, 2, 3)]


def test_assembles_the_file_with_progress(parts: Parts, cache: Path) -> None:
    progress = Progress()
    path = ensure_assembled(parts.model, cache, progress)
    assert path == cache / "models" / "tiny.gguf"
    assert path.read_bytes() == parts.content
    assert progress.started == [("Assembling her mind (one time)", parts.model.size)]
    assert progress.done == [parts.model.size]
    assert not path.with_name("tiny.gguf.partial").exists()
    assert path.with_name("tiny.gguf.verified").is_file()


def test_assembles_without_a_progress_callback(parts: Parts, cache: Path) -> None:
    assert ensure_assembled(parts.model, cache).read_bytes() == parts.content


def test_second_call_trusts_the_stamp_and_reads_nothing(
        parts: Parts, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = ensure_assembled(parts.model, cache)
    monkeypatch.setattr(bundled, "_read_chunks", no_reading)
    for n in (1, 2, 3):
        parts.part_file(n).unlink()  # the parts are not even needed any more
    progress = Progress()
    assert ensure_assembled(parts.model, cache, progress) == path
    assert progress.started == []
    assert path.read_bytes() == parts.content


def test_truncated_file_is_detected_and_rebuilt(parts: Parts, cache: Path) -> None:
    path = ensure_assembled(parts.model, cache)
    with path.open("r+b") as f:
        f.truncate(parts.model.size - 100)
    progress = Progress()
    assert ensure_assembled(parts.model, cache, progress) == path
    assert path.read_bytes() == parts.content
    assert [d for d, _ in progress.started] == ["Checking the model file",
                                                "Assembling her mind (one time)"]


def test_flipped_byte_with_new_mtime_is_detected_and_rebuilt(parts: Parts, cache: Path) -> None:
    path = ensure_assembled(parts.model, cache)
    with path.open("r+b") as f:
        f.seek(6000)
        byte = f.read(1)
        f.seek(6000)
        f.write(bytes([byte[0] ^ 0xFF]))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert path.read_bytes() != parts.content
    progress = Progress()
    ensure_assembled(parts.model, cache, progress)
    assert path.read_bytes() == parts.content
    assert progress.done == [parts.model.size, parts.model.size]


def test_touched_but_intact_file_is_rehashed_not_rebuilt(
        parts: Parts, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = ensure_assembled(parts.model, cache)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    for n in (1, 2, 3):
        parts.part_file(n).unlink()
    progress = Progress()
    assert ensure_assembled(parts.model, cache, progress) == path
    assert progress.started == [("Checking the model file", parts.model.size)]
    # ...and the stamp was renewed: the next start is instant again.
    monkeypatch.setattr(bundled, "_read_chunks", no_reading)
    assert ensure_assembled(parts.model, cache) == path


def test_missing_stamp_means_rehash(parts: Parts, cache: Path) -> None:
    path = ensure_assembled(parts.model, cache)
    path.with_name("tiny.gguf.verified").write_text("{not json")
    progress = Progress()
    ensure_assembled(parts.model, cache, progress)
    assert progress.started == [("Checking the model file", parts.model.size)]


def test_missing_part_package_names_it(parts: Parts, cache: Path) -> None:
    (parts.root / f"{parts.model.package_prefix}2" / "__init__.py").unlink()
    (parts.root / f"{parts.model.package_prefix}2").rename(parts.root / "elsewhere")
    with pytest.raises(ModelFileError) as caught:
        ensure_assembled(parts.model, cache)
    assert f"package {parts.model.package_prefix}2 is missing" in str(caught.value)
    assert "os1[bundled]" in caught.value.hint
    assert not (cache / "models" / "tiny.gguf").exists()


def test_package_names_are_shown_as_pip_names() -> None:
    prefix = f"no_such_model_{uuid.uuid4().hex[:8]}_part"
    model = BundledModel("x.gguf", prefix, 1, 1, "0" * 64)
    with pytest.raises(ModelFileError) as caught:
        model.part_paths()
    assert f"package {prefix.replace('_', '-')}1 is missing" in str(caught.value)


def test_missing_part_file_is_reported_and_leaves_nothing(parts: Parts, cache: Path) -> None:
    parts.part_file(3).unlink()
    with pytest.raises(ModelFileError, match=r"A piece of tiny\.gguf is missing") as err:
        ensure_assembled(parts.model, cache)
    assert "part03.bin" in str(err.value)
    assert sorted(p.name for p in (cache / "models").iterdir()) == ["tiny.lock"]


@pytest.mark.parametrize("damage", ["flip", "extra", "short"])
def test_wrong_part_content_is_refused_and_leaves_nothing(parts: Parts, cache: Path,
                                                          damage: str) -> None:
    part = parts.part_file(2)
    blob = part.read_bytes()
    if damage == "flip":
        part.write_bytes(blob[:10] + bytes([blob[10] ^ 1]) + blob[11:])
    elif damage == "extra":
        part.write_bytes(blob + b"\0")
    else:
        part.write_bytes(blob[:-1])
    with pytest.raises(ModelFileError) as caught:
        ensure_assembled(parts.model, cache)
    assert "don't add up to the expected file" in str(caught.value)
    assert parts.model.sha256[:12] in str(caught.value)
    assert "--force-reinstall" in caught.value.hint
    assert sorted(p.name for p in (cache / "models").iterdir()) == ["tiny.lock"]


def test_a_bad_old_file_is_replaced_even_when_rebuilding_fails(parts: Parts,
                                                               cache: Path) -> None:
    path = ensure_assembled(parts.model, cache)
    path.write_bytes(b"rotten")
    parts.part_file(1).write_bytes(b"also rotten")
    with pytest.raises(ModelFileError):
        ensure_assembled(parts.model, cache)
    assert not path.exists(), "a file that failed verification is never left to be loaded"


# -- check_gguf ---------------------------------------------------------------------------


def test_check_gguf_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="There is no model file at") as caught:
        check_gguf(tmp_path / "nope.gguf")
    assert "--model" in caught.value.hint


def test_check_gguf_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="is not a file"):
        check_gguf(tmp_path)


@pytest.mark.parametrize("content", [b"", b"GGU", b"<html>404 Not Found</html>",
                                     b"version https://git-lfs.github.com/spec/v1\n"])
def test_check_gguf_not_gguf(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as caught:
        check_gguf(path)
    assert "is not a GGUF model file" in str(caught.value)
    assert repr(content[:4]) in str(caught.value)


def test_check_gguf_accepts_the_magic(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 16)
    check_gguf(path)


def zipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, member: bytes,
           piece_size: int = 4096) -> ZippedModel:
    """``member`` deflated into a zip between two other files, the zip cut into pieces,
    each piece the data file of a distribution installed in a temporary site dir; only
    the pieces from the member's header on are named, as for the real embedder."""
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("before.bin", os.urandom(10_000))
        z.writestr("model/member.gguf", member)
        z.writestr("after.txt", "x" * 5000)
        info = z.getinfo("model/member.gguf")
    blob, site = archive.read_bytes(), tmp_path / "site"
    first = info.header_offset // piece_size
    names, paths = [], []
    for n, start in enumerate(range(0, len(blob), piece_size)):
        name = f"fakezip-{uuid.uuid4().hex[:8]}-{n}"
        info_dir = site / f"{name.replace('-', '_')}-1.0.dist-info"
        info_dir.mkdir(parents=True)
        (info_dir / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (site / name / "input").mkdir(parents=True)
        (site / name / "input" / f"all.zip.{n:03d}").write_bytes(blob[start:start + piece_size])
        if n >= first:
            names.append(name)
            paths.append(f"{name}/input/all.zip.{n:03d}")
    monkeypatch.syspath_prepend(str(site))
    return ZippedModel("member.gguf", tuple(names), tuple(paths),
                       info.header_offset - first * piece_size, info.compress_size,
                       len(member), hashlib.sha256(member).hexdigest())


def test_a_zip_member_is_unpacked_from_the_packages_that_hold_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    member = os.urandom(20_000) + b"GGUF" * 10_000
    model = zipped(tmp_path, monkeypatch, member)
    progress = Progress()
    path = ensure_assembled(model, cache, progress)
    assert path.read_bytes() == member
    assert progress.started == [("Unpacking a model (one time)", len(member))]
    assert progress.done == [len(member)]


def test_a_missing_or_damaged_zip_piece_is_named_and_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    member = os.urandom(30_000)
    model = zipped(tmp_path, monkeypatch, member)
    damaged = replace(model, header_at=model.header_at + 1)
    with pytest.raises(ModelFileError, match="not the expected zip"):
        ensure_assembled(damaged, cache)
    missing = replace(model, distributions=(*model.distributions[:-1], "no-such-dist-0"))
    with pytest.raises(ModelFileError, match="no-such-dist-0 is not installed") as err:
        ensure_assembled(missing, cache)
    assert "no-deps-packages.txt" in (err.value.hint or "")
    assert list((cache / "models").glob("member.gguf*")) == []
