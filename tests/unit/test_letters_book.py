"""The book of his letters and the manuscript, made with the real tools: typst (the
wheel's compiler), ebooklib, and read back with Debian's pdftotext and epubcheck.

What is checked is what a reader would see: the PDF's text holds every letter word for
word in order, the EPUB passes epubcheck with nothing to report, an anonymised book holds
no name of the people the letters were for anywhere, and each fault gets its own message
with nothing written."""

from __future__ import annotations

import html
import re
import struct
import subprocess
import zipfile
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from xml.etree import ElementTree

import pytest

from os1.letters.anonymise import Anonymiser, name_parts
from os1.letters.book import BookError, BookLetter, BookPlan, build_book, preview_pages
from os1.letters.book_text import paragraphs, with_closing
from os1.letters.manuscript import build_manuscript, rounded_word_count, word_count
from os1.letters.typesetting import DEBIAN_TYPEFACES, run_typst, write_whole

SNOW = BookLetter("The first snow", "Amelia Hart", (
    "Dear Amelia,\n\nThe snow came early this year, and I thought of you and the garden "
    "at Hart's Lane, where fifty finches fought over the feeder.\nI hope it finds you "
    "well, and Amelia's cough is gone.\n\nLove,\nTheo"))
MARKUP = BookLetter("Symbols # $ * _ @ < [ ] \\ ` //", "Zoë Ølund-Šimić", (
    "Dear Zoë,\n\nHere is what typst must not read: #set text(red) $x^2$ *bold* _it_ "
    "@ref <label> [a] \\ `code` // not a comment /* nor this */ = heading\n- item\n"
    "+ item\n<b>not bold</b> &amp; \"quoted\" 'single' -- ~ http://example.com\n\n"
    "Ølund and Šimić, and Zoë again.\n\nYours,\nT."))
LONG = BookLetter("To whom it may concern", "", "\n\n".join(
    f"Paragraph {n} of a letter that runs on, page after page, for no one in particular."
    + (" Then it goes on further, steadily." * 6) for n in range(1, 25)))
PLAN = BookPlan("The first snow and others", "Theodore Twombly", (SNOW, MARKUP, LONG),
                foreword="I chose these because he\nmeant every word.", handwriting=True)
NAMES = ("Amelia Hart", "Amelia", "Hart", "Zoë", "Ølund", "Šimić", "Ølund-Šimić")
PNG = b"\x89PNG\r\n\x1a\n"


def words(text: str) -> str:
    return " ".join(text.split())


def pdf_text(path: Path, *options: str) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", *options, str(path), "-"],
                          capture_output=True, text=True, check=True).stdout


def pdf_words(path: Path) -> str:
    """The PDF's words in reading order, the page numbers at the pages' feet left out."""
    return words(" ".join(line for line in pdf_text(path).splitlines()
                          if not line.strip().isdigit()))


def epubcheck(path: Path) -> subprocess.CompletedProcess[str]:
    # Debian's /usr/bin/epubcheck is the jar itself (run through binfmt where registered);
    # the JIT's first tier alone halves a run this short
    return subprocess.run(["java", "-XX:TieredStopAtLevel=1", "-jar", "/usr/bin/epubcheck",
                           str(path)],
                          capture_output=True, text=True, timeout=120)


def chapter_words(epub: Path, member: str) -> str:
    with zipfile.ZipFile(epub) as archive:
        tree = ElementTree.fromstring(archive.read(member))
    body = tree.find("{http://www.w3.org/1999/xhtml}body")
    assert body is not None
    return words(" ".join(body.itertext()))


def expected(letter: BookLetter, written_for: str | None = None) -> str:
    whom = letter.written_for if written_for is None else written_for
    return words(" ".join([letter.title, f"For {whom}" if whom else "", letter.text]))


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    files = build_book(PLAN, tmp_path_factory.mktemp("book"))
    return files.pdf, files.epub


def test_the_pdf_holds_every_letter_word_for_word_in_order(book: tuple[Path, Path]) -> None:
    text = pdf_words(book[0])
    assert text.startswith("The first snow and others Theodore Twombly Contents Foreword")
    assert "Foreword I chose these because he meant every word." in text
    at = 0
    for letter in PLAN.letters:
        found = text.find(expected(letter), at)
        assert found > at, f"{letter.title!r} is not whole, or out of order"
        at = found
    assert len(pdf_text(book[0]).split("\f")) > 6  # the long letter runs over pages


def test_the_book_is_set_in_eb_garamond_with_his_closings_in_his_hand(
        book: tuple[Path, Path], tmp_path: Path) -> None:
    fonts = subprocess.run(["pdffonts", str(book[0])], capture_output=True, text=True,
                           check=True).stdout
    assert "EBGaramond12-Regular" in fonts and "EBGaramond12-Italic" in fonts
    assert "DkgHandwriting" in fonts and "Libertinus" not in fonts  # no fallback face
    plain = build_book(replace(PLAN, handwriting=False), tmp_path).pdf
    assert "DkgHandwriting" not in subprocess.run(
        ["pdffonts", str(plain)], capture_output=True, text=True, check=True).stdout


def test_the_contents_list_each_letter_and_who_it_was_for(book: tuple[Path, Path]) -> None:
    contents = pdf_text(book[0]).split("\f")[1]
    lines = [words(line.replace(".", " ")) for line in contents.splitlines() if line.strip()]
    assert lines[0] == "Contents"
    assert lines[1:] == ["Foreword 3", "The first snow for Amelia Hart 4",
                         "Symbols # $ * _ @ < [ ] \\ ` // for Zoë Ølund-Šimić 5",
                         "To whom it may concern 6", "2"]  # its own page number


def test_the_epub_passes_epubcheck_with_nothing_to_report(book: tuple[Path, Path]) -> None:
    result = epubcheck(book[1])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors or warnings detected." in result.stdout


def test_the_epub_has_a_chapter_per_letter_with_the_text_escaped(
        book: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(book[1]) as archive:
        names = archive.namelist()
        opf = archive.read("EPUB/content.opf").decode()
    assert [n for n in names if "letter-" in n] == [
        "EPUB/letter-001.xhtml", "EPUB/letter-002.xhtml", "EPUB/letter-003.xhtml"]
    for n, letter in enumerate(PLAN.letters, 1):
        assert chapter_words(book[1], f"EPUB/letter-{n:03d}.xhtml") == expected(letter)
    assert "<dc:language>en</dc:language>" in opf
    assert re.search(r"<dc:identifier id=\"id\">urn:uuid:[0-9a-f-]{36}</dc:identifier>", opf)
    assert "<dc:creator" in opf and "Theodore Twombly" in opf


def test_an_anonymised_book_names_no_one_it_was_written_for(tmp_path: Path) -> None:
    plan = replace(PLAN, title="Letters to Amelia", anonymise=True,
                   foreword="Amelia Hart kept every one; so did Zoë.",
                   letters=(*PLAN.letters, replace(SNOW, title="Amelia, again")))
    files = build_book(plan, tmp_path)
    text = pdf_words(files.pdf)
    with zipfile.ZipFile(files.epub) as archive:
        members = [html.unescape(archive.read(n).decode()) for n in archive.namelist()
                   if not n.endswith(".otf")]
    for name in NAMES:
        assert re.search(rf"(?<!\w){name}(?!\w)", text) is None, name
        assert all(name not in member for member in members), name
        assert name not in files.pdf.name and name not in files.epub.name
    assert "The first snow For A. Dear A., The snow came early" in text
    assert "A., again For A. Dear A., The snow" in text
    assert "For B. Dear B., Here is what" in text and "B. and B., and B. again" in text
    assert "at A.'s Lane" in text and "and A.'s cough is gone." in text
    assert "Foreword A. kept every one; so did B." in text


def test_controls_and_invisible_characters_never_break_the_book(tmp_path: Path) -> None:
    hostile = BookLetter("A\x00 title\nover two lines", "Jo\u202e\x1b[2J",
                         "Dear Jo,\x0b\x07\ufffe\n\nIt\u200b rained.\tThen\x00 it stopped.")
    files = build_book(replace(PLAN, letters=(hostile,)), tmp_path)
    assert "A title over two lines For Jo[2J Dear Jo, It rained. Then it stopped." in (
        pdf_words(files.pdf))
    assert chapter_words(files.epub, "EPUB/letter-001.xhtml") == (
        "A title over two lines For Jo[2J Dear Jo, It rained. Then it stopped.")


def test_preview_pages_are_png_images_of_the_first_pages() -> None:
    pages = preview_pages(PLAN, pages=2, ppi=40)
    assert len(pages) == 2
    for page in pages:
        assert page.startswith(PNG)
        width, height = struct.unpack(">II", page[16:24])  # the IHDR chunk
        assert (width, height) == (6 * 40, 9 * 40)
    assert pages[0] != pages[1]


def test_a_book_with_no_letters_says_how_to_choose_them(tmp_path: Path) -> None:
    with pytest.raises(BookError) as err:
        build_book(replace(PLAN, letters=()), tmp_path / "out")
    assert str(err.value) == "There are no letters chosen for the book yet."
    assert "os1 letters choose N" in err.value.hint
    assert not (tmp_path / "out").exists()


def test_a_letter_with_no_words_is_named(tmp_path: Path) -> None:
    empty = BookLetter("Unfinished", "Amelia Hart", "  \n\n\t\n")
    with pytest.raises(BookError, match=r'Letter 2 \("Unfinished"\) in the book has no text'):
        build_book(replace(PLAN, letters=(SNOW, empty)), tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("face", "package", "handwriting"), [
    ("book", "fonts-ebgaramond", False), ("handwriting", "fonts-dkg-handwriting", True)])
def test_a_missing_typeface_names_its_debian_package(
        tmp_path: Path, face: str, package: str, handwriting: bool) -> None:
    gone = getattr(DEBIAN_TYPEFACES, face)
    faces = replace(DEBIAN_TYPEFACES, **{face: replace(gone, folders=(tmp_path / "none",))})
    with pytest.raises(BookError) as err:
        build_book(replace(PLAN, handwriting=handwriting), tmp_path / "out", faces)
    assert package in str(err.value) and f"sudo apt install {package}" in err.value.hint
    assert not (tmp_path / "out").exists()


def test_a_plain_book_needs_no_handwriting_face_and_passes_epubcheck(tmp_path: Path) -> None:
    faces = replace(DEBIAN_TYPEFACES, handwriting=replace(
        DEBIAN_TYPEFACES.handwriting, folders=(tmp_path / "none",)))
    files = build_book(replace(PLAN, handwriting=False, foreword=""), tmp_path, faces)
    assert pdf_words(files.pdf).startswith(
        "The first snow and others Theodore Twombly Contents The first snow for Amelia Hart")
    result = epubcheck(files.epub)
    assert "No errors or warnings detected." in result.stdout, result.stdout


def test_typst_failing_gives_its_diagnostic_in_our_error() -> None:
    with pytest.raises(BookError) as err:
        run_typst("#let x = (1 +", {}, [])
    assert str(err.value) == ("Typst couldn't typeset it: unclosed delimiter (1:9); "
                              "expected expression (1:13)")
    assert "Traceback" not in str(err.value) and "┌─" not in str(err.value)
    with pytest.raises(BookError, match=r"unknown variable: nowhere \(1:1\)"):
        run_typst("#nowhere", {}, [])


def test_a_typeface_typst_cannot_find_is_an_error_not_a_fallback() -> None:
    with pytest.raises(BookError, match="unknown font family: nowhere sans"):
        run_typst('#set text(font: "Nowhere Sans")\nWords.', {}, [])


def test_a_folder_that_cannot_be_written_is_said_so(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(BookError, match=r"The book can't be written to .*a-file/book"):
        build_book(PLAN, blocker / "book")
    assert blocker.read_text() == "not a folder"


def test_a_failed_write_leaves_the_earlier_book_as_it_was(tmp_path: Path) -> None:
    files = build_book(PLAN, tmp_path)
    before = files.pdf.read_bytes(), files.epub.read_bytes()
    (tmp_path / f".{files.epub.name}.partial").mkdir()  # the EPUB can't be written
    with pytest.raises(BookError, match="couldn't be written"):
        write_whole({files.pdf: b"new pdf", files.epub: b"new epub"})
    assert (files.pdf.read_bytes(), files.epub.read_bytes()) == before
    assert not (tmp_path / f".{files.pdf.name}.partial").exists()


def test_names_are_replaced_whole_word_case_sensitive_and_consistently() -> None:
    hide = Anonymiser(["Amelia Hart", "Mrs Jo van Dyke", "Amelia Hart", ""])
    assert hide.pseudonyms == {"Amelia Hart": "A.", "Mrs Jo van Dyke": "B."}
    assert name_parts("Mrs Jo van Dyke") == ["Mrs Jo van Dyke", "Jo", "Dyke"]
    assert hide("Amelia Hart met Mrs Dyke and Jo; amelia, Hartley and Amelia's hat.") == (
        "A. met Mrs B. and B.; amelia, Hartley and A.'s hat.")
    assert hide("I wrote to Amelia.") == "I wrote to A."
    assert Anonymiser([])("Amelia") == "Amelia"


def test_paragraphs_keep_his_line_breaks_and_find_his_closing() -> None:
    paras = paragraphs("Dear Jo,\r\n\r\nIt rained.\nThen it stopped.\n \nLove,\nTheo\n")
    assert [p.lines for p in paras] == [("Dear Jo,",), ("It rained.", "Then it stopped."),
                                       ("Love,", "Theo")]
    assert with_closing(paras)[-1].hand_from == 0
    inline = with_closing(paragraphs("Dear Jo,\n\nIt was a long day for all of us here.\n"
                                     "With love,\nTheo"))
    assert inline[-1].hand_from == 1
    alone = with_closing(paragraphs("Just one short line."))
    assert alone[-1].hand_from is None


def test_the_manuscript_is_in_standard_manuscript_format(tmp_path: Path) -> None:
    contact = ["Theodore Twombly", "12 Elm Street", "Los Angeles, CA 90012",
               "theo@example.com"]
    path = build_manuscript("The first snow and others", "Theodore Twombly", contact,
                            PLAN.letters, tmp_path)
    pages = pdf_text(path).split("\f")
    first = [line for line in pages[0].splitlines() if line.strip()]
    count = f"about {rounded_word_count(word_count(PLAN.letters)):,} words"
    assert first == [*contact, count, "The first snow and others", "by Theodore Twombly"]
    for n, letter in enumerate(PLAN.letters, 2):
        page = [line for line in pages[n - 1].splitlines() if line.strip()]
        assert page[:2] == [f"Twombly / THE FIRST SNOW AND OTHERS / {n}", letter.title]
    body = words(" ".join(line for line in pdf_text(path).splitlines()
                          if not line.startswith("Twombly / ")))
    assert all(expected(letter) in body for letter in PLAN.letters)
    assert body.endswith("END")


def test_the_manuscript_is_double_spaced_within_one_inch_margins(tmp_path: Path) -> None:
    path = build_manuscript("Snow", "Theo Twombly", ["Theo"], [LONG], tmp_path)
    layout = pdf_text(path, "-f", "2", "-l", "2", "-bbox-layout")
    lines = [(float(x0), float(y0), float(x1)) for x0, y0, x1 in re.findall(
        r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)"', layout)]
    body = lines[2:]  # after the header and the title
    gaps = {round(b[1] - a[1], 1) for a, b in pairwise(body)}
    assert gaps == {24.0}  # 12 pt type, double-spaced
    assert min(x0 for x0, _, _ in body) == pytest.approx(72.0)  # 1 inch
    assert max(x1 for _, _, x1 in lines) <= 540.0 + 0.5  # 8.5 in less 1 inch


def test_word_count_counts_words_as_a_word_processor_does() -> None:
    letter = BookLetter("t", "", "Dear Jo — it's 3 o'clock… well-known -- and\n\nbye.")
    assert word_count([letter, letter]) == 16
    assert [rounded_word_count(n) for n in (0, 7, 44, 2_349, 2_350, 12_499, 12_500)] == [
        0, 10, 40, 2_300, 2_400, 12_000, 13_000]


def test_the_manuscript_needs_contact_details(tmp_path: Path) -> None:
    with pytest.raises(BookError, match="contact details"):
        build_manuscript("Snow", "Theo", ["  "], [SNOW], tmp_path)
    faces = replace(DEBIAN_TYPEFACES, typewriter=replace(
        DEBIAN_TYPEFACES.typewriter, folders=(tmp_path / "none",)))
    with pytest.raises(BookError, match="fonts-liberation"):
        build_manuscript("Snow", "Theo", ["Theo"], [SNOW], tmp_path, faces)
    assert list(tmp_path.iterdir()) == []
