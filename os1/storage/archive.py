"""The os1 export format, version 1 (docs/EXPORT_FORMAT.md): one tar holding
``manifest.json``, one ``<table>.jsonl`` per table and ``files/`` for binary data.

Why plain JSON lines in a plain tar: a person's archive should open with tools anyone
has (tar, a text editor, jq) long after this os1 is gone, and be checked before anything
is read into a store. The manifest gives each member's size and SHA-256 and each table's
row count; ``ArchiveReader.verify`` checks them all, so a damaged, truncated or foreign
archive is refused before anything is written. Nothing here knows about databases.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from os1.errors import InputError
from os1.storage.private_files import open_private, private_dir

FORMAT = "os1-export"
VERSION = 1
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 16 * 2**20
CHUNK = 2**20

Progress = Callable[[int], None]


class ArchiveError(InputError):
    """An archive that is damaged, truncated, foreign or from a newer os1."""


def table_member(table: str) -> str:
    return f"{table}.jsonl"


def blob_member(table: str, column: str) -> str:
    return f"files/{table}.{column}.bin"


# -- writing -------------------------------------------------------------------------------


@dataclass
class _Member:
    path: Path
    file: BinaryIO
    digest: Any = field(default_factory=hashlib.sha256)
    size: int = 0

    def write(self, data: bytes) -> int:
        self.file.write(data)
        self.digest.update(data)
        self.size += len(data)
        return self.size - len(data)


class TableWriter:
    """One table's rows as JSON lines; bytes go to the table's files, by reference."""

    def __init__(self, staging: Path, table: str, columns: list[str]) -> None:
        self.table = table
        self.columns = columns
        self.rows = 0
        self._staging = staging
        self.lines = self._open(table_member(table))
        self.blobs: dict[str, _Member] = {}

    def write(self, row: tuple[object, ...] | list[object]) -> None:
        cells = {c: self._cell(c, value) for c, value in zip(self.columns, row, strict=True)}
        line = json.dumps(cells, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        self.lines.write(line.encode("utf-8") + b"\n")
        self.rows += 1

    def close(self) -> None:
        for member in (self.lines, *self.blobs.values()):
            member.file.close()

    def _cell(self, column: str, value: object) -> object:
        if isinstance(value, bytes | bytearray | memoryview):
            name = blob_member(self.table, column)
            if column not in self.blobs:
                self.blobs[column] = self._open(name)
            blob, data = self.blobs[column], bytes(value)
            return {"$file": name, "offset": blob.write(data), "length": len(data)}
        if isinstance(value, float) and not math.isfinite(value):
            return {"$float": repr(value)}  # 'nan', 'inf', '-inf': JSON has no spelling
        return value

    def _open(self, name: str) -> _Member:
        path = self._staging / name
        return _Member(path, open_private(path))


class ArchiveWriter:
    """Tables staged in a private folder beside ``dest``, then put in one tar written to
    a partial file and renamed over ``dest``: a crash or a full disk never leaves half an
    archive under the name asked for. Created 0600: it holds a whole relationship."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        private_dir(dest.parent)
        self._staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        private_dir(self._staging / "files")
        self._tables: list[TableWriter] = []

    @property
    def tables(self) -> list[TableWriter]:
        return list(self._tables)

    def table(self, name: str, columns: list[str]) -> TableWriter:
        writer = TableWriter(self._staging, name, columns)
        self._tables.append(writer)
        return writer

    def finish(self, manifest: dict[str, Any]) -> int:
        """Write the archive with ``manifest`` (given its tables and files here);
        returns its size in bytes."""
        members = self._manifest_entries(manifest)
        body = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
        partial = self.dest.with_name(self.dest.name + ".partial")
        try:
            with open_private(partial) as out:
                with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
                    _add(tar, MANIFEST, len(body), io.BytesIO(body))
                    for name, path in members:
                        with path.open("rb") as data:
                            _add(tar, name, path.stat().st_size, data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, self.dest)
        finally:
            partial.unlink(missing_ok=True)
        return self.dest.stat().st_size

    def discard(self) -> None:
        for table in self._tables:
            table.close()
        shutil.rmtree(self._staging, ignore_errors=True)

    def _manifest_entries(self, manifest: dict[str, Any]) -> list[tuple[str, Path]]:
        tables: dict[str, Any] = {}
        files: dict[str, Any] = {}
        members: list[tuple[str, Path]] = []
        for table in self._tables:
            table.close()
            tables[table.table] = {"rows": table.rows, "sha256": table.lines.digest.hexdigest(),
                                   "bytes": table.lines.size, "columns": table.columns}
            members.append((table_member(table.table), table.lines.path))
            for blob in table.blobs.values():
                name = str(blob.path.relative_to(self._staging))
                files[name] = {"bytes": blob.size, "sha256": blob.digest.hexdigest()}
                members.append((name, blob.path))
        manifest["tables"], manifest["files"] = tables, files
        return members


def _add(tar: tarfile.TarFile, name: str, size: int, data: Any) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(time.time())
    tar.addfile(info, data)


# -- reading -------------------------------------------------------------------------------


class ArchiveReader:
    """An archive opened for reading: the manifest checked for shape at once, every
    member against it by ``verify``. Never extracted: members are read as streams."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise ArchiveError(f"There is no file {path}.")
        try:
            self._tar = tarfile.open(path, mode="r:*")  # noqa: SIM115 - open until close()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(f"{path} is not an os1 export: {exc}.",
                               "An export is the .tar that os1 export writes.") from exc
        try:
            self._members = {m.name: m for m in self._tar.getmembers()}
            self.manifest = self._read_manifest()
        except (tarfile.TarError, OSError, EOFError) as exc:
            self._tar.close()
            raise ArchiveError(f"{path} is damaged (cut off?): {exc}.",
                               "Export it again.") from exc
        except ArchiveError:
            self._tar.close()
            raise

    def close(self) -> None:
        self._tar.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def tables(self) -> dict[str, dict[str, Any]]:
        tables: dict[str, dict[str, Any]] = self.manifest["tables"]
        return tables

    def total_bytes(self) -> int:
        """What ``verify`` reads: every table and file the manifest lists."""
        return sum(int(e["bytes"]) for e in (*self.tables.values(),
                                             *self.manifest["files"].values()))

    def verify(self, progress: Progress | None = None) -> None:
        """Every member's size, SHA-256 and (for a table) line count against the
        manifest; ``ArchiveError`` saying which one is wrong."""
        expected = {table_member(t): (e["bytes"], e["sha256"], e["rows"])
                    for t, e in self.tables.items()}
        expected |= {name: (e["bytes"], e["sha256"], None)
                     for name, e in self.manifest["files"].items()}
        for name, (size, sha256, rows) in expected.items():
            digest, lines, seen = hashlib.sha256(), 0, 0
            with self._open(name) as data:
                while chunk := data.read(CHUNK):
                    digest.update(chunk)
                    lines += chunk.count(b"\n")
                    seen += len(chunk)
                    if progress is not None:
                        progress(len(chunk))
            if seen != size or digest.hexdigest() != sha256:
                raise ArchiveError(f"{self.path} is damaged: {name} is not what its manifest "
                                   "says (size or checksum).", "Export it again.")
            if rows is not None and lines != rows:
                raise ArchiveError(f"{self.path} is damaged: {name} has {lines} rows, its "
                                   f"manifest says {rows}.", "Export it again.")

    def rows(self, table: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(line number, row)`` with each cell decoded (bytes read from ``files/``)."""
        columns = self.tables[table]["columns"]
        blobs: dict[str, tuple[IO[bytes], list[int]]] = {}
        try:
            with self._open(table_member(table)) as data:
                for number, line in enumerate(data, start=1):
                    row = _decoded_row(line, columns, table, number)
                    yield number, {c: self._cell(v, blobs, table, number)
                                   for c, v in row.items()}
        finally:
            for stream, _ in blobs.values():
                stream.close()

    def _cell(self, value: Any, blobs: dict[str, tuple[IO[bytes], list[int]]], table: str,
              number: int) -> object:
        if not isinstance(value, dict):
            return value
        if set(value) == {"$float"} and value["$float"] in ("nan", "inf", "-inf"):
            return float(value["$float"])
        name = str(value.get("$file"))
        if set(value) != {"$file", "offset", "length"} or name not in self.manifest["files"]:
            raise ArchiveError(f"{self.path}: row {number} of {table_member(table)} holds a "
                               f"value os1 doesn't know: {json.dumps(value)[:80]}.")
        if name not in blobs:
            blobs[name] = (self._open(name), [0])
        stream, at = blobs[name]
        if value["offset"] != at[0] or not isinstance(value["length"], int):
            raise ArchiveError(f"{self.path}: row {number} of {table_member(table)} points "
                               f"at the wrong place in {name}.")
        data = stream.read(value["length"])
        if len(data) != value["length"]:
            raise ArchiveError(f"{self.path}: {name} ends before row {number} of "
                               f"{table_member(table)}.")
        at[0] += len(data)
        return data

    def _open(self, name: str) -> IO[bytes]:
        member = self._members.get(name)
        stream = self._tar.extractfile(member) if member is not None and member.isfile() \
            else None
        if stream is None:
            raise ArchiveError(f"{self.path} is incomplete: it has no {name}.",
                               "It may have been cut off; export it again.")
        return stream

    def _read_manifest(self) -> dict[str, Any]:
        member = self._members.get(MANIFEST)
        if member is None or not member.isfile() or member.size > MAX_MANIFEST_BYTES:
            raise ArchiveError(f"{self.path} is not an os1 export: it has no manifest.json.",
                               "An export is the .tar that os1 export writes.")
        try:
            with self._open(MANIFEST) as data:
                manifest = json.loads(data.read())
        except (ValueError, tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(f"{self.path} is damaged: its manifest can't be read "
                               f"({exc}).") from exc
        _check_manifest(manifest, self.path)
        listed = {MANIFEST} | {table_member(t) for t in manifest["tables"]} \
            | set(manifest["files"])
        strangers = sorted(set(self._members) - listed)
        if strangers:
            raise ArchiveError(f"{self.path} holds files its manifest doesn't list: "
                               f"{', '.join(strangers[:5])}.", "It is not an os1 export.")
        return dict(manifest)


def _check_manifest(manifest: Any, path: Path) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"{path} is not an os1 export (its manifest says another format).")
    version = manifest.get("version")
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise ArchiveError(f"{path} is format version {version!r} of os1's export; this os1 "
                           f"reads version {VERSION}.", "Import it with a newer os1.")
    tables, files, person = (manifest.get(k) for k in ("tables", "files", "person"))
    ok = isinstance(tables, dict) and isinstance(files, dict) and isinstance(person, dict) \
        and isinstance(person.get("user_id"), str) \
        and all(_is_entry(e, ("rows", "bytes")) and isinstance(e.get("columns"), list)
                and all(isinstance(c, str) for c in e["columns"]) for e in tables.values()) \
        and all(_is_entry(e, ("bytes",)) and str(n).startswith("files/")
                for n, e in files.items()) \
        and isinstance(manifest.get("schema_version"), int)
    if not ok:
        raise ArchiveError(f"{path} is damaged: its manifest is not complete.")


def _is_entry(entry: Any, counts: tuple[str, ...]) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("sha256"), str) \
        and all(isinstance(entry.get(k), int) and entry[k] >= 0 for k in counts)


def _decoded_row(line: bytes, columns: list[str], table: str, number: int) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise ArchiveError(f"Row {number} of {table_member(table)} is not JSON: {exc}.") \
            from exc
    if not isinstance(row, dict) or list(row) != columns:
        raise ArchiveError(f"Row {number} of {table_member(table)} doesn't have the columns "
                           "its manifest lists.")
    if any(isinstance(v, list) for v in row.values()):
        raise ArchiveError(f"Row {number} of {table_member(table)} holds a list where os1 "
                           "stores single values.")
    return row
