"""The bytes of a letter he gives as text, decoded; or a refusal that says what they are.

Why only UTF-8, and UTF-16 or UTF-32 that begin with their byte-order mark: those prove
themselves, so his words are read exactly as he wrote them. Any other encoding would be a
guess, and a wrong guess stores "cafÃ©" for "café" without a word; a file that reads as
Windows-1252 (Latin-1's superset, what older Windows editors save) is refused with the fix
instead. Why the signatures first: a PDF or a photo named letter.txt refused as "not
UTF-8" tells him nothing, while "is a PDF document" tells him what to do.
"""

from __future__ import annotations

import codecs
import re

from os1.errors import InputError

ACCEPTED = ("A letter can be plain text (.txt), Markdown (.md) or a Word document (.docx), "
            "saved as UTF-8 if it is text")
SAVE_AS_UTF8 = ("Save it as UTF-8 (in most editors: Save As, then Encoding: UTF-8) "
                "and add it again.")

# What a file is, by how it begins (ZIP archives are looked inside: word.py).
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Word (.doc) file or another old Office file"),
    (b"{\\rtf", "an RTF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program (ELF)"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg audio file"),
    (b"fLaC", "a FLAC audio file"),
)
# RIFF files say what they hold at bytes 8-12; ISO media ("ftyp" at 4-8) are MP4 or HEIC.
RIFF_KINDS = {b"WAVE": "a WAV audio file", b"WEBP": "a WebP image", b"AVI ": "an AVI video"}

BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
# Characters Windows-1252 text plausibly holds beyond letters: its typography.
TYPOGRAPHY = frozenset("’‘“”„–—…•€£¥§°«»·×÷±¢©®™¡¿ªº¹²³¼½¾µ¶ \u00a0")
# Controls a letter's text can't hold (tab and newline can; \r is gone by then).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def binary_kind(data: bytes) -> str | None:
    """What the bytes are by their signature ("a PDF document"), or None."""
    for signature, kind in SIGNATURES:
        if data.startswith(signature):
            return kind
    if data.startswith(b"RIFF") and data[8:12] in RIFF_KINDS:
        return RIFF_KINDS[data[8:12]]
    if data[4:8] == b"ftyp":
        return "an MP4 video or HEIC photo"
    return None


def refused_kind(called: str, kind: str) -> InputError:
    fix = ("open it in Word or LibreOffice and save it as .docx"
           if "Office" in kind or "Word" in kind or "OpenDocument" in kind or "RTF" in kind
           else "copy its words into a text file, or save it from where it was written "
                "as one of those")
    return InputError(f"{called} is {kind}, not a letter's text.", f"{ACCEPTED}: {fix}.")


def decode_text(data: bytes, called: str) -> str:
    """``data`` as text, from UTF-8 or a byte-order-marked UTF-16/32; else a refusal
    naming what it looks like instead."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return _decode_marked(data, encoding, called)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _refused_nul(data, nul, called)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refused_not_utf8(data, exc.start, called) from None


def _decode_marked(data: bytes, encoding: str, called: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding == "utf-8-sig" else encoding.upper()
        raise InputError(
            f"{called} begins as {name} text but isn't valid {name} at byte {exc.start:,}: "
            "it may be damaged or cut short.", SAVE_AS_UTF8) from None


def _refused_nul(data: bytes, at: int, called: str) -> InputError:
    if _looks_utf16_without_bom(data):
        return InputError(f"{called} looks like UTF-16 text without a byte-order mark, "
                          "which can't be read with certainty.", SAVE_AS_UTF8)
    return InputError(f"{called} isn't text: it holds a NUL byte (at byte {at:,}), as "
                      "binary files do.", f"{ACCEPTED}.")


def _looks_utf16_without_bom(data: bytes) -> bool:
    """Latin text in UTF-16 has a NUL in (nearly) every other byte and none between."""
    sample = data[:4096]
    halves = sample[0::2], sample[1::2]
    shares = sorted(half.count(0) / max(len(half), 1) for half in halves)
    return shares[0] < 0.05 and shares[1] > 0.6


def _refused_not_utf8(data: bytes, at: int, called: str) -> InputError:
    line = data.count(b"\n", 0, at) + 1
    byte = data[at]
    if reads_as_windows_1252(data):
        seen = bytes([byte]).decode("cp1252")
        return InputError(
            f"{called} isn't UTF-8 text; it looks like Latin-1/Windows-1252 (byte "
            f"0x{byte:02X} on line {line} would be “{seen}”).", SAVE_AS_UTF8)
    return InputError(
        f"{called} isn't text: byte 0x{byte:02X} on line {line} isn't UTF-8, and it "
        "doesn't read as Windows-1252 either.", f"{ACCEPTED}.")


def reads_as_windows_1252(data: bytes) -> bool:
    """Whether the bytes read as sensible Windows-1252 text: no controls, and what isn't
    ASCII mostly letters (é, ß) or typography (’ “ – …). Random binary fails both.
    Only text already under the size limit gets here, so reading it all is cheap."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    if CONTROL.search(text.replace("\r", "")):
        return False
    beyond_ascii = [char for char in text if ord(char) > 127]
    sensible = sum(1 for char in beyond_ascii if char.isalpha() or char in TYPOGRAPHY)
    return sensible >= 0.8 * len(beyond_ascii)


def refuse_controls(text: str, called: str) -> None:
    """Refuse text holding a control character: it would print as a terminal command, and
    XML (the book's EPUB) can't hold most of them, so it would break the book later."""
    found = CONTROL.search(text)
    if found is None:
        return
    line = text.count("\n", 0, found.start()) + 1
    raise InputError(
        f"{called} holds a control character (U+{ord(found.group()):04X}) on line {line}, "
        "which a letter's text can't contain.",
        "Delete it in your editor (it is usually invisible there) and add the letter again.")
