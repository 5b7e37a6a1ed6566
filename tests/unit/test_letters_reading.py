"""Reading a letter he gives (issue 26): text in the encodings that prove themselves,
Markdown as written, .docx through python-docx, and every kind of bad input refused with
a message that says what is wrong. Every file here is real bytes built in the test."""

from __future__ import annotations

import codecs
import io
import random
import zipfile
from collections.abc import Callable

import docx
import pytest

from os1.errors import EmptyMessage, InputError, MessageTooLong
from os1.letters import word
from os1.letters.reading import MAX_LETTER_CHARS, NOT_ENGLISH, looks_english, read_letter

LETTER = ("Dear Chris,\n\nThank you for the long walk on Sunday. I keep thinking about "
          "what you said by the river, and I think you were right.\n\nWith love,\nTheo")
FRENCH = ("Cher Paul,\n\nJe t'écris pour te dire que la maison est enfin vendue. Nous "
          "partons en mai et nous aimerions beaucoup te voir avant notre départ. Les enfants "
          "parlent de toi tous les jours.\n\nJe t'embrasse,\nClaire")
GERMAN = ("Lieber Thomas,\n\nich schreibe dir, weil ich in den letzten Wochen oft an dich "
          "gedacht habe. Was machst du jetzt in Berlin? Wir haben das Haus am See endlich "
          "verkauft, und die Kinder vermissen dich sehr.\n\nHerzliche Grüße, deine Anna")
SLANG = ("yo dude, sorry bout last nite, was totally wrecked lol. u free sat? gonna grab "
         "tacos w the crew, kinda wanna see ur new place tho. hit me up, peace")


def docx_bytes(*paragraphs: str, title: str = "",
               build: Callable[[docx.document.Document], None] | None = None) -> bytes:
    """A real .docx; a "\\n" inside a paragraph becomes a line break (w:br)."""
    document = docx.Document()
    for text in paragraphs:
        run = document.add_paragraph().add_run()
        for number, line in enumerate(text.split("\n")):
            if number:
                run.add_break()
            run.add_text(line)
    if build is not None:
        build(document)
    document.core_properties.title = title
    saved = io.BytesIO()
    document.save(saved)
    return saved.getvalue()


def rewritten(data: bytes, change: Callable[[str], str]) -> bytes:
    """The archive with word/document.xml passed through ``change``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for item in old.infolist():
            content = old.read(item.filename)
            if item.filename == "word/document.xml":
                content = change(content.decode("utf-8")).encode("utf-8")
            new.writestr(item, content)
    return out.getvalue()


def refusal(data: bytes, name: str = "letter.txt") -> InputError:
    with pytest.raises(InputError) as caught:
        read_letter(data, name)
    return caught.value


# --- text -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["letter.txt", "letter", "-", "letter.to.sam", "NOTE.TXT"])
def test_utf8_text_is_read_as_written_whatever_the_name(name: str) -> None:
    read = read_letter(LETTER.encode("utf-8"), name)
    assert read.text == LETTER
    assert read.title == "Dear Chris"
    assert read.notes == ()


def test_line_endings_become_newlines_and_only_the_ends_are_trimmed() -> None:
    data = b"\r\n  \r\nDear Sam,  \r\n\r\nIt rained.\rAll day.\t\r\n\r\n  \r\n"
    assert read_letter(data, "letter.txt").text == "Dear Sam,  \n\nIt rained.\nAll day."


def test_a_utf8_byte_order_mark_is_not_part_of_the_letter() -> None:
    assert read_letter(codecs.BOM_UTF8 + "Dear Zoë,\nhi".encode(), "a.txt").text == \
        "Dear Zoë,\nhi"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_a_byte_order_mark_are_read(encoding: str) -> None:
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}
    data = bom.get(encoding, b"") + "Dear Zoë,\r\nthe café — 10 €.".encode(encoding)
    assert read_letter(data, "letter.txt").text == "Dear Zoë,\nthe café — 10 €."


def test_utf16_without_a_byte_order_mark_is_refused_by_name() -> None:
    error = refusal(LETTER.encode("utf-16-le"))
    assert str(error) == ("letter.txt looks like UTF-16 text without a byte-order mark, "
                          "which can't be read with certainty.")
    assert "Save it as UTF-8" in error.hint


def test_windows_1252_is_refused_saying_what_it_looks_like_and_where() -> None:
    data = "Dear René,\n\nthe café “Le Zèbre” – tomorrow at 10?".encode("cp1252")
    error = refusal(data)
    assert str(error) == ("letter.txt isn't UTF-8 text; it looks like Latin-1/Windows-1252 "
                          "(byte 0xE9 on line 1 would be “é”).")
    assert error.hint.startswith("Save it as UTF-8")


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_not_text() -> None:
    data = b"Dear Sam,\nfine\n" + bytes([0x81, 0x02, 0x9D, 0x03, 0xC3, 0x28])
    assert str(refusal(data)) == ("letter.txt isn't text: byte 0x81 on line 3 isn't UTF-8, "
                                  "and it doesn't read as Windows-1252 either.")


def test_nul_bytes_mean_a_binary_file() -> None:
    error = refusal(b"Dear\x00\x17\x01\xfe\x00\x00binary", "-")
    assert str(error) == ("What came in on standard input isn't text: it holds a NUL byte "
                          "(at byte 4), as binary files do.")
    assert ".docx" in error.hint


@pytest.mark.parametrize(("data", "kind"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "an old Word (.doc) file or another old "
                                                  "Office file"),
    (b"{\\rtf1\\ansi Dear Sam}", "an RTF document"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "a WAV audio file"),
])
def test_a_known_binary_signature_is_named(data: bytes, kind: str) -> None:
    error = refusal(data, "letter.txt")
    assert str(error) == f"letter.txt is {kind}, not a letter's text."
    assert error.hint.startswith("A letter can be plain text (.txt), Markdown (.md) or a "
                                 "Word document (.docx)")


def test_a_control_character_is_refused_with_its_line() -> None:
    error = refusal(b"Dear Sam,\nthe \x1b[31mred\x1b[0m door")
    assert str(error) == ("letter.txt holds a control character (U+001B) on line 2, which "
                          "a letter's text can't contain.")


# --- size -----------------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"  \r\n\t\n   ", "\u00a0\n".encode()])
def test_empty_or_blank_is_refused(data: bytes) -> None:
    with pytest.raises(EmptyMessage, match=r"^letter\.txt (is empty|holds nothing but)"):
        read_letter(data, "letter.txt")


def test_a_5_mb_paste_is_refused_for_its_size() -> None:
    paste = ("All work and no play makes Jack a dull boy. " * 120_000)[:5_000_000]
    with pytest.raises(MessageTooLong) as caught:
        read_letter(paste.encode(), "-")
    assert str(caught.value) == ("What came in on standard input is 5.0 MB, more than "
                                 "200,000 characters; a letter can be at most 200,000.")
    assert "one at a time" in caught.value.hint


def test_an_enormous_paste_is_refused_for_size_before_it_is_decoded() -> None:
    # The last byte is no UTF-8: had it been decoded, the error would be about encoding.
    with pytest.raises(MessageTooLong, match=r"is 5\.0 MB"):
        read_letter(b"a" * 4_999_999 + b"\xff", "-")


def test_a_letter_just_over_the_limit_is_refused_with_its_length() -> None:
    with pytest.raises(MessageTooLong) as caught:
        read_letter(b"x" * (MAX_LETTER_CHARS + 1), "long.txt")
    assert str(caught.value) == ("long.txt is 200,001 characters long; a letter can be at "
                                 "most 200,000.")


def test_a_letter_at_the_limit_is_kept_even_in_four_byte_characters() -> None:
    read = read_letter(("\U0001f48c" * MAX_LETTER_CHARS).encode(), "hearts.txt")
    assert len(read.text) == MAX_LETTER_CHARS


# --- Markdown ---------------------------------------------------------------------------

def test_markdown_is_kept_as_he_wrote_it_with_a_plain_title() -> None:
    text = "# To my *sister*\n\nYou were **right** about the _boat_.\n\n- the oars\n- the sail"
    read = read_letter(text.encode(), "sister.md")
    assert read.text == text
    assert read.title == "To my sister"


def test_markdown_front_matter_gives_the_title_and_is_left_out() -> None:
    text = '---\ntitle: "For Amelia, on her wedding"\ndate: 2024-05-01\n---\n\nDear Amelia,\nyes'
    read = read_letter(text.encode(), "amelia.markdown")
    assert (read.text, read.title) == ("Dear Amelia,\nyes", "For Amelia, on her wedding")
    assert read.notes == ("Its front matter (the block between --- lines at the top) was "
                          "left out.",)


def test_a_markdown_rule_at_the_top_is_not_taken_for_front_matter() -> None:
    text = "---\nDear Amelia, it has been a year.\n---\nYours, Theo"
    assert read_letter(text.encode(), "amelia.md").text == text


def test_a_long_first_line_is_cut_at_a_word_for_the_title() -> None:
    first = "I have been meaning to write to you since the evening we sat on the pier"
    title = read_letter(f"{first}\nand more".encode(), "a.txt").title
    assert title == "I have been meaning to write to you since the evening we…"
    assert len(title) <= 60


# --- .docx --------------------------------------------------------------------------------

def test_docx_paragraphs_are_joined_by_blank_lines_and_line_breaks_kept() -> None:
    data = docx_bytes("Dear Chris,", "", "Thank you for Sunday.", "With love,\nTheo")
    read = read_letter(data, "chris.docx")
    assert read.text == "Dear Chris,\n\nThank you for Sunday.\n\nWith love,\nTheo"
    assert read.title == "Dear Chris"
    assert read.notes == ()


def test_the_docx_title_property_is_the_title_when_set() -> None:
    read = read_letter(docx_bytes("Dear Chris,", "hello", title="After the river"), "c.docx")
    assert read.title == "After the river"


def test_a_docx_named_txt_is_read_as_a_docx() -> None:
    read = read_letter(docx_bytes("Dear Chris,", "hello"), "chris.txt")
    assert read.text == "Dear Chris,\n\nhello"
    assert read.notes == ("It is a Word document (.docx), whatever its name says, and was "
                          "read as one.",)


def test_docx_tables_are_read_a_cell_at_a_time_and_said_so() -> None:
    def add_table(document: docx.document.Document) -> None:
        table = document.add_table(rows=1, cols=2)
        table.cell(0, 0).text = "Monday: the lake"
        table.cell(0, 1).text = "Tuesday: home"

    read = read_letter(docx_bytes("Our week:", build=add_table), "week.docx")
    assert read.text == "Our week:\n\nMonday: the lake\n\nTuesday: home"
    assert "tables were read a cell at a time" in read.notes[0]


def test_tracked_changes_are_refused_with_their_counts() -> None:
    def track(xml: str) -> str:
        ins = ('<w:ins w:id="{0}" w:author="Sam" w:date="2024-01-01T00:00:00Z"><w:r>'
               "<w:t>{1}</w:t></w:r></w:ins>")
        deleted = ('<w:del w:id="9" w:author="Sam" w:date="2024-01-01T00:00:00Z"><w:r>'
                   "<w:delText>old words</w:delText></w:r></w:del>")
        return xml.replace("</w:p>", ins.format(1, " new") + ins.format(2, " more")
                           + deleted + "</w:p>", 1)

    data = rewritten(docx_bytes("Dear Chris,", "hello"), track)
    error = refusal(data, "chris.docx")
    assert str(error) == ("chris.docx has tracked changes (2 insertions, 1 deletion): accept "
                          "or reject them in your word processor, then add it again.")


def test_moved_text_counts_as_an_insertion_and_a_deletion() -> None:
    def move(xml: str) -> str:
        moved = ('<w:moveFrom w:id="1" w:author="Sam" w:date="2024-01-01T00:00:00Z"><w:r>'
                 '<w:delText>hello</w:delText></w:r></w:moveFrom>'
                 '<w:moveTo w:id="2" w:author="Sam" w:date="2024-01-01T00:00:00Z"><w:r>'
                 "<w:t>hello</w:t></w:r></w:moveTo>")
        return xml.replace("</w:p>", moved + "</w:p>", 1)

    assert "(1 insertion, 1 deletion)" in str(refusal(rewritten(docx_bytes("Hi"), move)))


def test_docx_content_controls_are_read_and_text_boxes_left_out() -> None:
    control = ("<w:sdt><w:sdtContent><w:p><w:r><w:t>Written in the template's box."
               "</w:t></w:r></w:p></w:sdtContent></w:sdt>")
    text_box = ('<w:r><w:pict><v:shape><v:textbox><w:txbxContent><w:p><w:r><w:t>'
                "A sticker on the side</w:t></w:r></w:p></w:txbxContent></v:textbox>"
                "</v:shape></w:pict></w:r>")

    def add(xml: str) -> str:
        return xml.replace("<w:body>", "<w:body>" + control, 1).replace(
            "</w:r></w:p>", "</w:r>" + text_box + "</w:p>", 1)

    read = read_letter(rewritten(docx_bytes("Dear Chris,"), add), "chris.docx")
    assert read.text == "Written in the template's box.\n\nDear Chris,"


def test_a_docx_that_is_not_a_zip_is_refused() -> None:
    error = refusal(b"Dear Chris, this was typed into a file called .docx", "c.docx")
    assert str(error).startswith("c.docx isn't a Word document: a .docx file is a ZIP "
                                 "archive, and this isn't one.")


def test_a_cut_short_docx_is_a_damaged_archive() -> None:
    data = docx_bytes("Dear Chris,", "hello")
    assert "is a damaged ZIP archive" in str(refusal(data[: len(data) // 2], "c.docx"))


def test_a_docx_with_broken_xml_is_a_damaged_word_document() -> None:
    data = rewritten(docx_bytes("Dear Chris,"), lambda xml: xml[: len(xml) // 2])
    assert str(refusal(data, "c.docx")).startswith(
        "c.docx is a damaged Word document (its XML is broken: ")


def test_a_docx_with_scrambled_compressed_text_is_a_damaged_word_document() -> None:
    data = bytearray(docx_bytes("Dear Chris, " * 200))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        part = archive.getinfo("word/document.xml")
    start = part.header_offset + 30 + len(part.filename) + len(part.extra)
    for at in range(start + 10, start + 40):
        data[at] ^= 0x5A
    assert str(refusal(bytes(data), "c.docx")).startswith(
        "c.docx is a damaged Word document (Error -3 while decompressing data")


def test_a_docx_damaged_anywhere_is_refused_as_input_never_a_crash() -> None:
    original = docx_bytes("Dear Chris, " * 50, "second")
    rng = random.Random(26)
    outcomes = set()
    for _ in range(200):
        data = bytearray(original)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            read_letter(bytes(data), "c.docx")
            outcomes.add("read")
        except InputError:
            outcomes.add("refused")
    assert "refused" in outcomes


def test_a_docx_missing_a_part_it_needs_is_a_damaged_word_document() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_bytes("Hi"))) as old, \
            zipfile.ZipFile(out, "w") as new:
        for item in old.infolist():
            if item.filename != "[Content_Types].xml":
                new.writestr(item, old.read(item.filename))
    assert str(refusal(out.getvalue(), "c.docx")) == (
        "c.docx is a damaged Word document (There is no item named '[Content_Types].xml' "
        "in the archive).")


def test_a_docx_of_empty_paragraphs_is_empty() -> None:
    with pytest.raises(EmptyMessage, match="holds nothing but blank space"):
        read_letter(docx_bytes("", "  ", ""), "blank.docx")


def test_a_docx_over_the_limit_is_too_long() -> None:
    with pytest.raises(MessageTooLong, match=r"^long\.docx is 200,001 characters long"):
        read_letter(docx_bytes("y" * (MAX_LETTER_CHARS + 1)), "long.docx")


def test_a_docx_whose_text_would_unpack_enormous_is_refused_unread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(word, "MAX_DOCUMENT_BYTES", 100)
    with pytest.raises(MessageTooLong, match=r"^c\.docx's text unpacks to \d+ MB, far more"):
        read_letter(docx_bytes("Dear Chris,"), "c.docx")


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(("files", "kind"), [
    ({"letter.txt": b"Dear Chris"}, "a ZIP archive"),
    ({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"},
     "an OpenDocument file (.odt)"),
    ({"xl/workbook.xml": b"<x/>"}, "an Excel spreadsheet"),
])
def test_a_zip_that_is_not_a_docx_is_named(files: dict[str, bytes], kind: str) -> None:
    assert str(refusal(zipped(files), "letter.docx")) == \
        f"letter.docx is {kind}, not a letter's text."


# --- language ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", [FRENCH, GERMAN])
def test_a_letter_in_another_language_is_kept_with_a_note(text: str) -> None:
    read = read_letter(text.encode(), "lettre.txt")
    assert read.text == text
    assert read.notes == (NOT_ENGLISH,)
    assert not looks_english(text)


@pytest.mark.parametrize("text", [LETTER, SLANG, "Love, Anna", "ok c u l8r x"])
def test_english_letters_formal_or_slangy_or_short_look_english(text: str) -> None:
    assert looks_english(text)
    assert NOT_ENGLISH not in read_letter(text.encode(), "a.txt").notes


@pytest.mark.parametrize("text", [
    "Lieve Sanne, ik wil je bedanken voor de mooie brief die je me stuurde. Het was fijn "
    "om te horen dat het goed met je gaat. We hebben veel aan je gedacht deze zomer.",
    "Querida María, te escribo para decirte que te echo mucho de menos. La casa está muy "
    "tranquila sin ti y los perros no dejan de buscarte.",
    "Дорогая Анна, я пишу тебе, потому что очень скучаю. Дом пуст без тебя.",
])
def test_dutch_spanish_and_russian_do_not_look_english(text: str) -> None:
    assert not looks_english(text)


def test_an_english_letter_quoting_french_is_still_english() -> None:
    assert looks_english(LETTER + "\n\nAs Maman always said, « je t'aime, mon petit ».")
