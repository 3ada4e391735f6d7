"""documents.extraction on real files of every supported type, made in the tests (tests/documents/files.py)."""

import codecs
import io
import itertools
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents.extraction import (
    DETECT_HEAD_BYTES,
    SUPPORTED_TYPES,
    TEXT_MAX_CHARS,
    Chunk,
    DocumentKind,
    ExtractionFailed,
    UnsupportedDocument,
    document_type_detect,
    filename_sanitize,
    text_chunk,
    text_extract,
)
from tests.documents import files

PDF_PAGES = [
    "The aardvark digs for termites at night. " * 30,
    "Page two describes the zebra crossing the river in the dry season. " * 25,
    "The third page ends the report with the quokka smiling.",
]
DOCX_PARAGRAPHS = ["Revenue grew by twelve percent in the third quarter.", "Costs stayed flat."]
DOCX_TABLE = [["Product", "Units"], ["Apples", "42"], ["Pears", "17"]]
HTML_PAGE = """<!DOCTYPE html>
<html><head><title>Station guide</title>
<style>body { color: red; } .secret { display: none }</style>
<script>var leaked = "script text must not appear"; if (a < b) { document.write("<p>no</p>"); }</script>
</head>
<body>
  <h1>Platform   changes</h1>
  <p>Trains to Lyon leave from platform&nbsp;9 &amp; platform 10.</p>
  <ul><li>First item</li><li>Second item</li></ul>
  <table><tr><th>Day</th><th>Trains</th></tr><tr><td>Monday</td><td>14</td></tr></table>
  <div>Line one<br>Line two</div>
</body></html>
"""
CSV_TEXT = "city,country,population\nParis,France,2102650\nMünchen,Germany,1512491\n"
JSON_VALUE = {"title": "Café menu", "items": [{"name": "Crème brûlée", "price": 7.5}], "open": True}
MARKDOWN_TEXT = "# Handbook\n\nEmployees get **25 days** of leave.\n\n- Ask your manager first.\n"


def supported_samples() -> dict[DocumentKind, tuple[str, bytes, list[str]]]:
    """For each type: a file name, its bytes and phrases its extracted text must contain."""
    return {
        DocumentKind.TXT: (
            "notes.txt",
            b"Meeting notes.\n\nThe budget was approved on Tuesday.\n",
            ["budget was approved"],
        ),
        DocumentKind.MD: ("handbook.md", MARKDOWN_TEXT.encode(), ["Employees get **25 days** of leave."]),
        DocumentKind.HTML: ("guide.html", HTML_PAGE.encode(), ["Trains to Lyon leave from platform 9 & platform 10."]),
        DocumentKind.CSV: ("cities.csv", CSV_TEXT.encode(), ["München,Germany,1512491"]),
        DocumentKind.JSON: ("menu.json", json.dumps(JSON_VALUE).encode(), ['"name": "Crème brûlée"']),
        DocumentKind.PDF: (
            "report.pdf",
            files.pdf_with_text(PDF_PAGES),
            ["zebra crossing the river", "quokka smiling"],
        ),
        DocumentKind.DOCX: (
            "report.docx",
            files.docx_with_paragraphs_and_table(paragraphs=DOCX_PARAGRAPHS, table=DOCX_TABLE),
            ["Revenue grew by twelve percent", "Apples | 42", "Closing paragraph after the table."],
        ),
    }


class ReadCountingFile(io.BytesIO):
    """A real in-memory file that remembers how many bytes were read from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def detect(filename: str, data: bytes):
    return document_type_detect(filename=filename, file=io.BytesIO(data))


def extract(kind, data: bytes):
    return text_extract(kind=kind, file=io.BytesIO(data))


# ---------------------------------------------------------------------------------------------
# Every supported type, end to end
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_every_supported_type_is_detected_extracted_and_chunked(kind):
    filename, data, phrases = supported_samples()[kind]
    upload = io.BytesIO(data)

    document_type = document_type_detect(filename=filename, file=upload)
    assert document_type == SUPPORTED_TYPES[kind]
    assert upload.tell() == 0
    extracted = text_extract(kind=document_type.kind, file=upload)
    chunks = text_chunk(extracted.text, size=300, overlap=60, page_starts=extracted.page_starts)

    assert extracted.char_count == len(extracted.text) > 0
    assert chunks
    for phrase in phrases:
        assert phrase in extracted.text
        assert any(phrase in chunk.text for chunk in chunks), phrase


def test_every_supported_type_has_a_media_type_and_extensions():
    assert set(SUPPORTED_TYPES) == {"txt", "md", "html", "csv", "json", "pdf", "docx"}
    assert SUPPORTED_TYPES[DocumentKind.PDF].media_type == "application/pdf"
    assert SUPPORTED_TYPES[DocumentKind.DOCX].media_type == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    for document_type in SUPPORTED_TYPES.values():
        assert document_type.extensions[0] == f".{document_type.kind}"
        assert "/" in document_type.media_type


# ---------------------------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "kind"),
    [
        ("REPORT.PDF", files.pdf_with_text(["Upper case extension."]), DocumentKind.PDF),
        ("page.htm", b"<p>hello</p>", DocumentKind.HTML),
        ("readme.markdown", b"# Title\n", DocumentKind.MD),
        ("list.json", b"\xef\xbb\xbf  \n [1, 2, 3]", DocumentKind.JSON),
        ("C:\\Users\\me\\Desktop\\notes.txt", b"plain words", DocumentKind.TXT),
        ("latin.txt", "Crème brûlée \u2013 “quoted”".encode("cp1252"), DocumentKind.TXT),
        ("wide.txt", "Grüße aus Köln".encode("utf-16"), DocumentKind.TXT),
    ],
)
def test_detection_accepts_content_that_matches_the_extension(filename, data, kind):
    assert detect(filename, data).kind == kind


@pytest.mark.parametrize(
    ("filename", "data", "reason_part"),
    [
        ("notes.txt", files.ELF_HEADER, "named .txt but is an executable program"),
        ("report.docx", files.pdf_with_text(["A PDF in disguise."]), "named .docx but is a PDF document"),
        ("x.docx", files.zip_archive({"readme.txt": b"hello"}), "ZIP archive, not a Word document"),
        ("a.md", files.png_image(), "named .md but is a PNG image"),
        ("nul.txt", b"text with a \x00 NUL byte", "binary data"),
        ("bell.txt", b"text with a \x07 bell", "binary data"),
        ("tool.exe", b"MZ\x90\x00", "Files of type .exe are not supported"),
        ("README", b"no extension", "no extension"),
        ("empty.txt", b"", "The file is empty."),
        ("fake.pdf", b"Just some words, not a PDF.", "named .pdf but is not a PDF document"),
        ("notes.txt", files.docx_with_paragraphs_and_table(paragraphs=["x"], table=[["a"]]), "ZIP archive"),
        ("data.json", b"hello, not json", "does not hold a JSON object or array"),
        ("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "legacy Office file"),
        ("broken.docx", b"PK\x03\x04" + b"\xff" * 100, "damaged"),
        ("plain.docx", b"Words in a text file.", "named .docx but is not a Word document"),
        # UTF-16 without a BOM cannot be told from binary: refused, see _encoding_detect.
        ("wide.txt", "no byte order mark".encode("utf-16-le"), "binary data"),
    ],
)
def test_detection_refuses_unsupported_or_mismatched_files(filename, data, reason_part):
    with pytest.raises(UnsupportedDocument) as refused:
        detect(filename, data)
    assert reason_part in refused.value.reason
    assert str(refused.value) == refused.value.reason


def test_detection_reads_only_the_head_of_a_large_text_file():
    upload = ReadCountingFile(b"a line of plain text\n" * 1_000_000)

    assert document_type_detect(filename="big.txt", file=upload).kind == DocumentKind.TXT
    assert upload.bytes_read <= DETECT_HEAD_BYTES
    assert upload.tell() == 0


def test_detection_of_a_docx_reads_its_zip_directory_not_its_members():
    payload = os.urandom(2_000_000)
    upload = ReadCountingFile(
        files.zip_archive({"word/document.xml": b"<w:document/>", "word/media/picture.bin": payload})
    )

    assert document_type_detect(filename="big.docx", file=upload).kind == DocumentKind.DOCX
    assert upload.bytes_read < 100_000
    assert upload.tell() == 0


def test_detection_does_not_cut_a_multibyte_character_into_a_refusal():
    # The head ends in the middle of a two-byte "é": still valid UTF-8 text.
    data = b"a" * (DETECT_HEAD_BYTES - 1) + "é".encode() + b" and more"

    assert detect("accents.txt", data).kind == DocumentKind.TXT


# ---------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------


def test_pdf_text_pages_and_page_offsets():
    extracted = extract(DocumentKind.PDF, files.pdf_with_text(PDF_PAGES))

    assert extracted.page_count == 3
    assert extracted.char_count == len(extracted.text)
    assert len(extracted.page_starts) == 3
    second, third = extracted.page_starts[1:]
    assert extracted.text[second:].startswith("Page two describes the zebra")
    assert extracted.text[third:] == "The third page ends the report with the quokka smiling."
    # A chunk's page is the page it starts on.
    page_ends = [*extracted.page_starts[1:], len(extracted.text)]
    for size, overlap in ((1000, 200), (400, 100), (200, 0)):
        chunks = text_chunk(extracted.text, size=size, overlap=overlap, page_starts=extracted.page_starts)
        for chunk in chunks:
            assert extracted.page_starts[chunk.page - 1] <= chunk.start < page_ends[chunk.page - 1]
        assert [c.page for c in chunks] == sorted(c.page for c in chunks)
    # Chunks break at the page break (a paragraph break): the last page is a chunk of its own.
    assert {c.page for c in chunks} == {1, 2, 3}
    assert chunks[-1] == Chunk(
        index=len(chunks) - 1, text=extracted.text[third:], start=third, end=len(extracted.text), page=3
    )


def test_blank_pages_keep_their_place_in_the_page_count_and_offsets():
    pdf = files.pdf_with_text(["First page.", "", "Third page."])

    extracted = extract(DocumentKind.PDF, pdf)

    assert extracted.page_count == 3
    assert extracted.text == "First page.\n\nThird page."
    chunks = text_chunk(extracted.text, size=12, overlap=0, page_starts=extracted.page_starts)
    assert [(c.text, c.page) for c in chunks] == [("First page.", 1), ("Third page.", 3)]


def test_a_password_protected_pdf_is_refused_with_the_reason():
    pdf = files.pdf_encrypted(files.pdf_with_text(["Secret plans."]), user_password="open-sesame")

    assert detect("secret.pdf", pdf).kind == DocumentKind.PDF
    with pytest.raises(ExtractionFailed) as failed:
        extract(DocumentKind.PDF, pdf)
    assert failed.value.reason == "The PDF is encrypted; upload it without a password."


def test_a_pdf_encrypted_only_against_printing_opens_without_a_password():
    pdf = files.pdf_encrypted(files.pdf_with_text(["Readable by anyone."]), user_password="")

    assert extract(DocumentKind.PDF, pdf).text == "Readable by anyone."


@pytest.mark.parametrize("pdf", [files.pdf_scanned(), files.pdf_blank_pages(2)], ids=["image-only", "blank"])
def test_a_pdf_without_a_text_layer_is_refused_with_the_reason(pdf):
    with pytest.raises(ExtractionFailed) as failed:
        extract(DocumentKind.PDF, pdf)
    assert failed.value.reason == "The document has no extractable text (a scanned image?)."


@pytest.mark.parametrize(
    "pdf",
    [
        files.pdf_with_text(PDF_PAGES)[:1500],
        b"%PDF-1.7\n" + bytes(range(256)) * 40,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    ],
    ids=["truncated", "garbage-after-magic", "dangling-references"],
)
def test_a_damaged_pdf_is_refused_with_the_reason(pdf):
    assert detect("broken.pdf", pdf).kind == DocumentKind.PDF
    with pytest.raises(ExtractionFailed) as failed:
        extract(DocumentKind.PDF, pdf)
    assert failed.value.reason == "The file is damaged and could not be read as PDF."


def test_docx_paragraphs_and_table_cells_in_document_order():
    docx = files.docx_with_paragraphs_and_table(paragraphs=DOCX_PARAGRAPHS, table=DOCX_TABLE)

    extracted = extract(DocumentKind.DOCX, docx)

    assert extracted.text == (
        "Quarterly report\n\n"
        "Revenue grew by twelve percent in the third quarter.\n\n"
        "Costs stayed flat.\n\n"
        "Product | Units\nApples | 42\nPears | 17\n\n"
        "Closing paragraph after the table."
    )
    assert extracted.page_count is None
    assert extracted.page_starts is None


def test_a_docx_whose_document_part_is_not_xml_is_refused_as_damaged():
    docx = files.zip_archive({"[Content_Types].xml": b"<broken", "word/document.xml": b"not xml at all"})

    assert detect("broken.docx", docx).kind == DocumentKind.DOCX
    with pytest.raises(ExtractionFailed) as failed:
        extract(DocumentKind.DOCX, docx)
    assert failed.value.reason == "The file is damaged and could not be read as a Word document."


def test_html_keeps_visible_text_and_block_breaks_and_skips_script_and_style():
    text = extract(DocumentKind.HTML, HTML_PAGE.encode()).text

    assert text == (
        "Station guide\n\n"
        "Platform changes\n\n"
        "Trains to Lyon leave from platform 9 & platform 10.\n\n"
        "First item\nSecond item\n\n"
        "Day | Trains\nMonday | 14\n\n"
        "Line one\nLine two"
    )
    assert "leaked" not in text
    assert "color" not in text


def test_json_is_parsed_and_indented_with_its_characters_kept():
    text = extract(DocumentKind.JSON, json.dumps(JSON_VALUE).encode()).text

    assert json.loads(text) == JSON_VALUE
    assert text == json.dumps(JSON_VALUE, indent=2, ensure_ascii=False)
    assert "Crème brûlée" in text


def test_invalid_json_is_refused_with_where_it_breaks():
    data = b'{\n  "a": 1,\n  "b": \n}'

    assert detect("bad.json", data).kind == DocumentKind.JSON
    with pytest.raises(ExtractionFailed) as failed:
        extract(DocumentKind.JSON, data)
    assert failed.value.reason == "The file is not valid JSON: Expecting value at line 4, column 1."


def test_csv_and_markdown_keep_their_lines():
    assert extract(DocumentKind.CSV, CSV_TEXT.encode()).text == CSV_TEXT.strip()
    assert extract(DocumentKind.MD, MARKDOWN_TEXT.encode()).text == MARKDOWN_TEXT.strip()


# Accents, the euro sign, an en dash and curly quotes: cp1252 has them all, latin-1 not the last four.
CP1252_TEXT = "Le café crème coûte 3 € \u2013 « très bon », dit l\u2019hôte. Señor Müller\u2019s naïve “smile”."


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (CP1252_TEXT.encode("cp1252"), CP1252_TEXT),
        ("Café".encode("cp1252"), "Café"),
        ("Smörgåsbord och kött.".encode("cp1252"), "Smörgåsbord och kött."),
        ("Price: 5 €, Straße".encode("cp1252"), "Price: 5 €, Straße"),
        ("Привет, как дела? Это тест кодировки.".encode("cp1251"), "Привет, как дела? Это тест кодировки."),
        ("日本語のテキストです。これはテストです。".encode("shift_jis"), "日本語のテキストです。これはテストです。"),
        ("Crème brûlée à la française.".encode("latin-1"), "Crème brûlée à la française."),
        ("Grüße, 你好, здравствуйте".encode("utf-16"), "Grüße, 你好, здравствуйте"),
        (codecs.BOM_UTF16_BE + "Grüße aus Köln".encode("utf-16-be"), "Grüße aus Köln"),
        (codecs.BOM_UTF8 + "naïve café".encode(), "naïve café"),
        ("Zażółć gęślą jaźń".encode(), "Zażółć gęślą jaźń"),
        (b"windows\r\nline\r\nendings\r\n", "windows\nline\nendings"),
    ],
    ids=[
        "cp1252",
        "cp1252-one-accent",
        "cp1252-swedish",
        "cp1252-euro-eszett",
        "cp1251-russian",
        "shift-jis",
        "latin-1",
        "utf-16-le-bom",
        "utf-16-be-bom",
        "utf-8-bom",
        "utf-8",
        "crlf",
    ],
)
def test_text_encodings_come_out_right(data, expected):
    assert detect("text.txt", data).kind == DocumentKind.TXT
    assert extract(DocumentKind.TXT, data).text == expected


def test_whitespace_only_text_is_refused_at_extraction():
    data = b"  \n\n\t \n"

    assert detect("blank.txt", data).kind == DocumentKind.TXT
    with pytest.raises(ExtractionFailed) as failed:
        extract(DocumentKind.TXT, data)
    assert failed.value.reason == "The document has no text."


def test_binary_data_after_the_head_is_refused_at_extraction():
    data = b"innocent text\n" * 1000 + b"\x00\x01\x02binary tail"

    assert detect("tail.txt", data).kind == DocumentKind.TXT
    with pytest.raises(ExtractionFailed) as failed:
        extract(DocumentKind.TXT, data)
    assert "binary data" in failed.value.reason


def test_a_text_file_too_large_to_hold_the_cap_is_refused_before_decoding():
    data = b"x" * (4 * TEXT_MAX_CHARS + 5)

    with pytest.raises(ExtractionFailed) as failed:
        extract(DocumentKind.CSV, data)
    assert failed.value.reason == (
        "The file is larger than 20 MB, too large to read as text; split it into smaller files and upload those."
    )


def test_more_text_than_the_cap_is_refused():
    data = b"lorem ipsum " * (TEXT_MAX_CHARS // 12 + 10)

    with pytest.raises(ExtractionFailed) as failed:
        extract(DocumentKind.TXT, data)
    assert failed.value.reason == (
        "The document has more than 5,000,000 characters of text; split it into smaller files and upload those."
    )


# ---------------------------------------------------------------------------------------------
# File names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        (".hidden.txt", "hidden.txt"),
        ("..\\..\\.env", "env"),
        ("a\x00b\nc\x1b.txt", "ab c.txt"),
        ("Cafe\u0301 menu.md", "Caf\u00e9 menu.md"),
        ("invoice\u202etxt.exe", "invoicetxt.exe"),
        ("what<is>:this?*.txt", "what_is__this__.txt"),
        ("  lots   of\tspace  .txt", "lots of space.txt"),
        ("CON.txt", "_CON.txt"),
        ("trailing dots...", "trailing dots"),
        ("", "document"),
        ("...", "document"),
        ("folder/", "document"),
        (".pdf", "pdf"),
        ("\u0000\u0001.docx", "docx"),
    ],
)
def test_filename_sanitize(name, expected):
    assert filename_sanitize(name) == expected


@pytest.mark.parametrize("name", ["a" * 500 + ".pdf", "é" * 300 + ".docx", "名前" * 200 + ".txt"])
def test_long_file_names_are_capped_keeping_the_extension(name):
    safe = filename_sanitize(name)

    assert len(safe.encode()) <= 200
    assert os.path.splitext(safe)[1] == os.path.splitext(name)[1]
    assert name.startswith(os.path.splitext(safe)[0])


# ---------------------------------------------------------------------------------------------
# Chunking
# ---------------------------------------------------------------------------------------------


def assert_chunks_well_formed(text: str, chunks: list[Chunk], *, size: int, overlap: int) -> None:
    assert [c.index for c in chunks] == list(range(len(chunks)))
    covered = bytearray(len(text))
    for chunk in chunks:
        assert chunk.text
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()
        assert len(chunk.text) <= size
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    # Every non-whitespace character is in some chunk.
    assert all(covered[i] or text[i].isspace() for i in range(len(text)))
    for previous, following in itertools.pairwise(chunks):
        assert previous.start < following.start
        assert previous.end < following.end
        if following.start >= previous.end:
            # No overlap only across whitespace, or when none was asked for.
            assert overlap == 0 or not text[previous.end : following.start].strip()
        else:
            assert previous.end - following.start <= overlap


def prose(paragraphs: int = 12) -> str:
    sentences = [
        f"Sentence {n} of paragraph {p} talks about topic {p * 7 + n} in some detail."
        for p in range(paragraphs)
        for n in range(5)
    ]
    return "\n\n".join(" ".join(sentences[p * 5 : p * 5 + 5]) for p in range(paragraphs))


def test_chunks_of_prose_overlap_and_cover_the_text():
    text = prose(40)

    chunks = text_chunk(text)

    assert len(chunks) > 3
    assert_chunks_well_formed(text, chunks, size=1000, overlap=200)
    for previous, following in itertools.pairwise(chunks):
        shared = text[following.start : previous.end]
        assert len(shared) > 100
        assert previous.text.endswith(shared)
        assert following.text.startswith(shared)
    assert chunks[0].start == 0
    assert chunks[-1].end == len(text)


def test_chunks_end_at_paragraph_breaks_when_there_are_some():
    text = prose(40)

    chunks = text_chunk(text)

    for chunk in chunks[:-1]:
        assert text[chunk.end : chunk.end + 2] == "\n\n"


def test_chunks_end_at_sentence_ends_without_paragraphs():
    text = prose(40).replace("\n\n", " ")

    chunks = text_chunk(text)

    for chunk in chunks[:-1]:
        assert chunk.text.endswith(".")


def test_chunks_break_between_words_without_punctuation():
    text = " ".join(f"word{n}" for n in range(3000))
    words = set(text.split())

    chunks = text_chunk(text, size=200, overlap=50)

    assert_chunks_well_formed(text, chunks, size=200, overlap=50)
    for chunk in chunks:
        assert set(chunk.text.split()) <= words


def test_a_word_longer_than_a_window_is_cut_at_the_window():
    text = "x" * 2500

    chunks = text_chunk(text, size=1000, overlap=200)

    assert [(c.start, c.end) for c in chunks] == [(0, 1000), (800, 1800), (1600, 2500)]


def test_a_text_shorter_than_a_chunk_is_one_chunk():
    assert text_chunk("  A short note.\n") == [Chunk(index=0, text="A short note.", start=2, end=15)]


@pytest.mark.parametrize("text", ["", "   \n\n\t "])
def test_no_text_gives_no_chunks(text):
    assert text_chunk(text) == []


def test_chunking_is_deterministic():
    text = prose(30)

    assert text_chunk(text) == text_chunk(text)
    assert text_chunk(text, size=333, overlap=77) == text_chunk(text, size=333, overlap=77)


def test_a_long_run_of_whitespace_does_not_give_a_chunk_without_new_text():
    text = "alpha beta gamma delta " * 30 + "\n\n" + " " * 900 + "\n\nomega tail words here"

    chunks = text_chunk(text, size=700, overlap=300)

    assert_chunks_well_formed(text, chunks, size=700, overlap=300)
    assert chunks[-1].text == "omega tail words here"


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (100, 100), (100, -1), (100, 150)])
def test_impossible_sizes_are_a_programming_error(size, overlap):
    with pytest.raises(ValueError, match="size"):
        text_chunk("text", size=size, overlap=overlap)


def test_chunking_a_million_characters():
    text = prose(40) * 60

    chunks = text_chunk(text)

    assert_chunks_well_formed(text, chunks, size=1000, overlap=200)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(alphabet=st.sampled_from("ab c.\n\n!?\t\u3002é"), max_size=2000),
    size=st.integers(min_value=1, max_value=300),
    overlap_share=st.floats(min_value=0, max_value=0.99),
)
def test_chunk_properties_hold_for_any_text(text, size, overlap_share):
    overlap = int(size * overlap_share)

    chunks = text_chunk(text, size=size, overlap=overlap)

    assert_chunks_well_formed(text, chunks, size=size, overlap=overlap)
    if text.strip():
        assert chunks[0].start == len(text) - len(text.lstrip())
        assert chunks[-1].end == len(text.rstrip())
    else:
        assert chunks == []
    assert chunks == text_chunk(text, size=size, overlap=overlap)
