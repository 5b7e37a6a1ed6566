"""What the book and the manuscript share: their error, the typefaces they need, typst
run on data, and files that appear whole or not at all.

Why the letters reach typst as data (a JSON string in ``sys.inputs``) and never as markup:
a letter is free text, and ``#``, ``$``, ``*``, ``@``, ``<`` or ``//`` in it would be
typst code. A string placed as content is set literally, whatever it holds.

Why the typefaces are checked by their files before typst runs: typst quietly falls back
to a font of its own when one is missing, and the book would come out in the wrong face
with no word said. Only the folders named here are given to typst (system fonts are
ignored), so what was checked is what is used.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typst

from os1.errors import OS1Error
from os1.storage.private_files import open_private, private_dir


class BookError(OS1Error):
    """The book (or the manuscript) can't be made; nothing of it was written."""


@dataclass(frozen=True)
class Typeface:
    """One face the documents use: its family name in typst, the font files that must be
    there (any one of ``folders`` may hold them), and the Debian package that ships them."""

    family: str
    files: tuple[str, ...]
    folders: tuple[Path, ...]
    package: str

    def folder(self) -> Path:
        """The first folder holding every file, or a BookError naming the package."""
        for folder in self.folders:
            if all((folder / name).is_file() for name in self.files):
                return folder
        raise BookError(f"The {self.family} typeface isn't installed (Debian package "
                        f"{self.package}), so this can't be typeset.",
                        f"On Debian: sudo apt install {self.package}")


@dataclass(frozen=True)
class Typefaces:
    """Where each face is looked for; tests point these at empty folders."""

    book: Typeface
    handwriting: Typeface
    typewriter: Typeface


DEBIAN_TYPEFACES = Typefaces(
    book=Typeface("EB Garamond", ("EBGaramond12-Regular.otf", "EBGaramond12-Italic.otf"),
                  (Path("/usr/share/fonts/opentype/ebgaramond"),), "fonts-ebgaramond"),
    handwriting=Typeface("DkgHandwriting", ("dkg.ttf",),
                         (Path("/usr/share/fonts/truetype/fifthhorseman"),),
                         "fonts-dkg-handwriting"),
    # Liberation Mono has Courier New's metrics: the manuscript's classic face
    typewriter=Typeface("Liberation Mono", ("LiberationMono-Regular.ttf",),
                        (Path("/usr/share/fonts/truetype/liberation"),
                         Path("/usr/share/fonts/truetype/liberation2")), "fonts-liberation"),
)


def font_folders(faces: Sequence[Typeface]) -> list[str]:
    """The folders typst gets: each face's, checked (BookError for a missing one)."""
    return sorted({str(face.folder()) for face in faces})


def run_typst(source: str, data: dict[str, Any], fonts: list[str], *,
              png_ppi: float | None = None) -> list[bytes]:
    """``source`` compiled with ``data`` as ``sys.inputs.data`` (JSON): one PDF, or with
    ``png_ppi`` one PNG per page. Typst's own diagnostic becomes a BookError."""
    inputs = {"data": json.dumps(data, ensure_ascii=False)}
    faces = typst.Fonts(include_system_fonts=False, include_embedded_fonts=True,
                        font_paths=list(fonts))
    try:
        out, warnings = typst.compile_with_warnings(
            source.encode(), font_paths=faces, sys_inputs=inputs,
            format="pdf" if png_ppi is None else "png", ppi=png_ppi)
    except typst.TypstError as exc:
        raise BookError(f"Typst couldn't typeset it: {_diagnostic(exc)}",
                        "This is a fault in os1's layout, not in the letters.") from exc
    except RuntimeError as exc:  # the binding's other failures carry only a message
        raise BookError(f"Typst couldn't typeset it: {exc}") from exc
    unknown = [w.message for w in warnings if "unknown font family" in w.message]
    if unknown:  # typst would set it in a face of its own: not the book we mean
        raise BookError(f"Typst couldn't find a typeface: {'; '.join(unknown)}.")
    return out if isinstance(out, list) else [out]


def _diagnostic(exc: typst.TypstError) -> str:
    """Each of typst's errors with where in the template it was, on one line, without the
    source dump around them: "unclosed delimiter (1:9); expected expression (1:13)"."""
    errors = re.findall(r"^error: (.+)\n\s*┌─ [^\n]*?:(\d+:\d+)$",
                        getattr(exc, "diagnostic", "") or "", re.MULTILINE)
    found = [f"{message} ({where})" for message, where in errors]
    if not found:
        found = [(getattr(exc, "message", "") or str(exc)).strip() or "an unknown error"]
    hints = [h.strip() for h in getattr(exc, "hints", None) or [] if h.strip()]
    return "; ".join([*found, *hints])


def writable(folder: Path) -> Path:
    """``folder``, made if missing; a BookError saying why it can't hold the files."""
    try:
        private_dir(folder)
        if not folder.is_dir():
            raise NotADirectoryError(f"{folder} is not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(f"{folder} is not writable")
    except OSError as exc:
        raise BookError(f"The book can't be written to {folder}: "
                        f"{exc.strerror or exc}.", "Choose a folder you can write to.") from exc
    return folder


def write_whole(files: dict[Path, bytes]) -> None:
    """Every file written (and synced) under a partial name first, and only then each
    renamed into place: a failure while writing (a full disk) leaves the files already
    there as they were, never half a book."""
    partials = {path: path.with_name(f".{path.name}.partial") for path in files}
    written: list[Path] = []
    try:
        for path, content in files.items():
            with open_private(partials[path]) as out:
                written.append(partials[path])
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
        for path, partial in partials.items():
            os.replace(partial, path)
    except OSError as exc:
        for partial in written:
            partial.unlink(missing_ok=True)
        raise BookError(f"The book couldn't be written to {next(iter(files)).parent}: "
                        f"{exc.strerror or exc}.", "Nothing was changed there.") from exc
