"""What an uploaded file is, the text in it, and that text cut into overlapping chunks.

Pure functions over file objects: no store, no HTTP, no Django. The documents service calls
`document_type_detect` when a file is uploaded and `text_extract` + `text_chunk` from its rq job.
Both exceptions carry a `reason` written for the person who uploaded the file.
"""

import bisect
import codecs
import html.parser
import json
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO

import charset_normalizer
import docx
import pypdf
from docx.table import Table
from docx.text.paragraph import Paragraph


class UnsupportedDocument(Exception):
    """The file is not one of SUPPORTED_TYPES, or its content does not match its name."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ExtractionFailed(Exception):
    """A supported file whose text could not be extracted; `reason` says what the user can do."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class DocumentKind(StrEnum):
    TXT = "txt"
    MD = "md"
    HTML = "html"
    CSV = "csv"
    JSON = "json"
    PDF = "pdf"
    DOCX = "docx"


@dataclass(frozen=True)
class DocumentType:
    kind: DocumentKind
    media_type: str
    # The first one is the canonical extension; all are lower case with the dot.
    extensions: tuple[str, ...]


SUPPORTED_TYPES: dict[DocumentKind, DocumentType] = {
    DocumentKind.TXT: DocumentType(DocumentKind.TXT, "text/plain", (".txt", ".text")),
    DocumentKind.MD: DocumentType(DocumentKind.MD, "text/markdown", (".md", ".markdown")),
    DocumentKind.HTML: DocumentType(DocumentKind.HTML, "text/html", (".html", ".htm")),
    DocumentKind.CSV: DocumentType(DocumentKind.CSV, "text/csv", (".csv",)),
    DocumentKind.JSON: DocumentType(DocumentKind.JSON, "application/json", (".json",)),
    DocumentKind.PDF: DocumentType(DocumentKind.PDF, "application/pdf", (".pdf",)),
    DocumentKind.DOCX: DocumentType(
        DocumentKind.DOCX,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
    ),
}

_KIND_BY_EXTENSION = {ext: t.kind for t in SUPPORTED_TYPES.values() for ext in t.extensions}

# Enough bytes to sniff magic numbers and to judge an encoding, without reading a large file.
DETECT_HEAD_BYTES = 8192
# More text than this is not one document a user asks questions of; it is also the bound on the
# memory and the chunking work one job can take.
TEXT_MAX_CHARS = 5_000_000
# Text formats are read whole to be decoded. No encoding takes more than 4 bytes a character, so
# a larger file is refused before any decoding work.
TEXT_FILE_MAX_BYTES = 4 * TEXT_MAX_CHARS + 4
# python-docx inflates every part of the package into memory: a ZIP bomb must be refused first.
DOCX_UNPACKED_MAX_BYTES = 256 * 1024 * 1024

_PDF_MAGIC = b"%PDF-"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Formats users upload by mistake, named so that the refusal can say what the file really is.
# Only signatures that no text file starts with: binary bytes, or the PDF header.
_KNOWN_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (_PDF_MAGIC, "a PDF document"),
    (_ZIP_MAGICS[0], "a ZIP archive (or an Office document)"),
    (_ZIP_MAGICS[1], "a ZIP archive (or an Office document)"),
    (_OLE_MAGIC, "a legacy Office file (.doc, .xls) or a password-protected Office document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x7fELF", "an executable program"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
)

# C0 control characters other than tab, line feed, form feed and carriage return: text files do
# not contain them, binary files almost always do.
_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_BOMS = (
    # UTF-32 before UTF-16: the UTF-32 LE BOM starts with the UTF-16 LE one.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _supported_list() -> str:
    return ", ".join(t.extensions[0] for t in SUPPORTED_TYPES.values())


# ---------------------------------------------------------------------------------------------
# File names
# ---------------------------------------------------------------------------------------------

# Well under the 255-byte name limit of common file systems, leaving room for a prefix.
FILENAME_MAX_BYTES = 200
_FILENAME_EXTENSION_MAX_BYTES = 16
_FILENAME_UNSAFE = re.compile(r'[<>:"/\\|?*]')
# Control, format (e.g. the right-to-left override that disguises "txt.exe"), surrogate and
# line/paragraph separator characters have no place in a file name.
_FILENAME_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_WINDOWS_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}


def filename_sanitize(name: str) -> str:
    """A name safe to show and to store under: no path, no control characters, never empty."""
    name = unicodedata.normalize("NFC", name)
    # Browsers on Windows have sent full paths; either separator ends a directory part.
    name = re.split(r"[/\\]", name)[-1]
    # Tabs and line breaks are spaces; the other control characters go.
    name = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if unicodedata.category(ch) not in _FILENAME_DROPPED_CATEGORIES or ch.isspace()
    )
    name = " ".join(name.split())
    name = _FILENAME_UNSAFE.sub("_", name)
    # Leading dots hide a file (or climb a directory); trailing dots and spaces vanish on Windows.
    name = name.strip(". ")
    stem, extension = os.path.splitext(name)
    if len(extension.encode()) > _FILENAME_EXTENSION_MAX_BYTES:
        stem, extension = name, ""
    stem = stem.strip(". ") or "document"
    if stem.upper() in _WINDOWS_RESERVED_NAMES:
        stem = f"_{stem}"
    budget = FILENAME_MAX_BYTES - len(extension.encode())
    # Cutting the UTF-8 bytes may split a character; "ignore" drops the partial one.
    stem = stem.encode()[:budget].decode(errors="ignore").rstrip(". ") or "document"
    return stem + extension


# ---------------------------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------------------------


def document_type_detect(*, filename: str, file: BinaryIO) -> DocumentType:
    """The type of an uploaded file, judged by its extension and its content together.

    `file` must be seekable (a Django UploadedFile, a temporary file, BytesIO). It is read from
    the start: DETECT_HEAD_BYTES, plus the ZIP directory for .docx. It is rewound afterwards.
    Raises UnsupportedDocument when the extension is not supported or the content contradicts it.
    """
    extension = os.path.splitext(filename_sanitize(filename))[1].lower()
    if not extension:
        raise UnsupportedDocument(f"The file name has no extension. Supported types: {_supported_list()}.")
    kind = _KIND_BY_EXTENSION.get(extension)
    if kind is None:
        raise UnsupportedDocument(f"Files of type {extension} are not supported. Supported types: {_supported_list()}.")

    file.seek(0)
    head = file.read(DETECT_HEAD_BYTES)
    file.seek(0)
    if not head:
        raise UnsupportedDocument("The file is empty.")
    actually = _signature_describe(head)

    if kind == DocumentKind.PDF:
        if not head.startswith(_PDF_MAGIC):
            raise UnsupportedDocument(f"The file is named {extension} but is {actually or 'not a PDF document'}.")
    elif kind == DocumentKind.DOCX:
        _docx_check(file=file, head=head, extension=extension, actually=actually)
    else:
        if actually:
            raise UnsupportedDocument(f"The file is named {extension} but is {actually}.")
        # A head shorter than asked for is the whole file: its last character is not cut.
        text = _text_decode(head, final=len(head) < DETECT_HEAD_BYTES)
        if text is None:
            raise UnsupportedDocument(f"The file is named {extension} but contains binary data, not text.")
        # A prefix check only: the whole file may be far larger than the head; parsing is extraction's job.
        if kind == DocumentKind.JSON and not text.lstrip().startswith(("{", "[")):
            raise UnsupportedDocument(f"The file is named {extension} but does not hold a JSON object or array.")
    return SUPPORTED_TYPES[kind]


def _signature_describe(head: bytes) -> str | None:
    for magic, description in _KNOWN_SIGNATURES:
        if head.startswith(magic):
            return description
    return None


def _docx_check(*, file: BinaryIO, head: bytes, extension: str, actually: str | None) -> None:
    if not head.startswith(_ZIP_MAGICS):
        raise UnsupportedDocument(f"The file is named {extension} but is {actually or 'not a Word document'}.")
    try:
        # Reads only the central directory at the end of the file, not the members.
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise UnsupportedDocument("The file is damaged and could not be read as a Word document.") from exc
    finally:
        file.seek(0)
    if "word/document.xml" not in names:
        raise UnsupportedDocument(
            f"The file is named {extension} but is a ZIP archive, not a Word document (no word/document.xml)."
        )


# ---------------------------------------------------------------------------------------------
# Text encodings
# ---------------------------------------------------------------------------------------------


# The legacy encodings a text without a BOM that is not UTF-8 may be in, most likely first: a
# tie in charset-normalizer's score goes to the earlier one. Left to choose among all it knows,
# charset-normalizer takes short West-European texts for EBCDIC, UTF-16 or Big5 ("Smörgåsbord"
# scores as well in Big5 as in cp1252); a closed list makes its guesses dependable.
_LEGACY_ENCODINGS = [
    "cp1252",  # Western Europe and the Americas; also what files labelled latin-1 really are
    "cp1250",  # Central Europe
    "cp1251",  # Cyrillic
    "cp1253",  # Greek
    "cp1254",  # Turkish
    "cp1257",  # Baltic
    "koi8_r",
    "cp1255",  # Hebrew
    "cp1256",  # Arabic
    "shift_jis",
    "euc_jp",
    "gb18030",
    "big5",
    "euc_kr",
    "cp874",  # Thai: last, its table decodes almost any byte sequence without complaint
]


def _text_decode(data: bytes, *, final: bool) -> str | None:
    """The bytes as text in their detected encoding, or None when they are not text.

    With final=False, `data` is a head cut at an arbitrary byte: an incomplete character at its
    end is ignored rather than taken for a decoding error.
    """
    encoding = _encoding_detect(data, final=final)
    if encoding is None:
        return None
    try:
        text = codecs.getincrementaldecoder(encoding)(errors="strict").decode(data, final=final)
    except UnicodeDecodeError:
        return None
    if _BINARY_CONTROL.search(text):
        return None
    return text


def _encoding_detect(data: bytes, *, final: bool) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    # Without a BOM a NUL byte means binary. (UTF-16 without a BOM is refused: it cannot be told
    # from binary reliably, and every editor that writes UTF-16 writes the BOM.)
    if b"\x00" in data:
        return None
    # Valid UTF-8 is almost never anything else; trusting it first avoids statistical guesses.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=final)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    matches = list(charset_normalizer.from_bytes(data, cp_isolation=_LEGACY_ENCODINGS))
    if not matches:
        return None
    preference = {encoding: rank for rank, encoding in enumerate(_LEGACY_ENCODINGS)}
    best = min(matches, key=lambda m: (m.chaos, preference.get(m.encoding, len(preference))))
    return best.encoding


# ---------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractedText:
    text: str
    # PDF pages; None for the formats that have no pages.
    page_count: int | None
    char_count: int
    # For PDFs, the offset in `text` where each page starts (page n starts at page_starts[n-1]);
    # text_chunk turns them into a page per chunk.
    page_starts: tuple[int, ...] | None = None


_TOO_MUCH_TEXT = (
    f"The document has more than {TEXT_MAX_CHARS:,} characters of text; split it into smaller files and upload those."
)
_NO_TEXT = "The document has no text."


def text_extract(*, kind: DocumentKind | str, file: BinaryIO) -> ExtractedText:
    """The text of a file that document_type_detect accepted as `kind`, read from its start.

    Raises ExtractionFailed with a reason the user can act on.
    """
    kind = DocumentKind(kind)
    file.seek(0)
    if kind == DocumentKind.PDF:
        return _pdf_extract(file=file)
    text = _docx_extract(file=file) if kind == DocumentKind.DOCX else _text_file_extract(kind=kind, file=file)
    text = _text_tidy(text)
    if not text:
        raise ExtractionFailed(_NO_TEXT)
    if len(text) > TEXT_MAX_CHARS:
        raise ExtractionFailed(_TOO_MUCH_TEXT)
    return ExtractedText(text=text, page_count=None, char_count=len(text))


_LINE_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


def _text_tidy(text: str) -> str:
    """One newline convention and at most one blank line in a row: the chunker breaks at blank
    lines, and runs of whitespace are noise to an embedding model."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    # PDF text layers and DOCX fields can carry control characters that mean nothing as text.
    text = _BINARY_CONTROL.sub("", text)
    text = _LINE_TRAILING_SPACE.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def _text_file_extract(*, kind: DocumentKind, file: BinaryIO) -> str:
    data = file.read(TEXT_FILE_MAX_BYTES + 1)
    if len(data) > TEXT_FILE_MAX_BYTES:
        raise ExtractionFailed(
            f"The file is larger than {TEXT_FILE_MAX_BYTES // 1_000_000} MB, too large to read as text; "
            "split it into smaller files and upload those."
        )
    text = _text_decode(data, final=True)
    if text is None:
        raise ExtractionFailed("The file contains binary data or an unknown encoding, not text.")
    if kind == DocumentKind.HTML:
        return _html_text(text)
    if kind == DocumentKind.JSON:
        return _json_text(text)
    # Plain text, Markdown and CSV read well as they are: CSV rows are lines, Markdown is prose.
    return text


def _json_text(text: str) -> str:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExtractionFailed(
            f"The file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from exc
    except (ValueError, RecursionError) as exc:
        # Integers over Python's digit limit, or nesting deeper than the parser's recursion limit.
        raise ExtractionFailed("The file is not valid JSON, or is nested too deeply to read.") from exc
    # Indented, so that the chunker finds line breaks; non-ASCII kept as the characters themselves.
    return json.dumps(value, indent=2, ensure_ascii=False)


class _HtmlTextParser(html.parser.HTMLParser):
    """Visible text of an HTML page, with line breaks where the page has blocks."""

    # html.parser reads <script> and <style> bodies as raw text, so their end tags are reliable.
    _SKIPPED = {"script", "style", "template"}
    # Paragraph-like blocks become blank lines, so that the chunker prefers to break between them.
    _PARAGRAPH_BLOCKS = {
        "address", "article", "aside", "blockquote", "dd", "details", "dl", "fieldset", "figcaption", "figure",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "nav", "ol", "p", "pre",
        "section", "table", "title", "ul",
    }  # fmt: skip
    _LINE_BLOCKS = {"br", "caption", "div", "dt", "li", "option", "summary", "tr"}
    _CELLS = {"td", "th"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIPPED:
            self._skip_depth += 1
        if tag in self._CELLS:
            self.parts.append(" | ")
        self._block_separate(tag)

    def handle_startendtag(self, tag, attrs):
        self._block_separate(tag)

    def handle_endtag(self, tag):
        if tag in self._SKIPPED and self._skip_depth:
            self._skip_depth -= 1
        self._block_separate(tag)

    def handle_data(self, data):
        if not self._skip_depth:
            # Source line breaks and indentation are not text in HTML: only blocks break lines.
            # (That flattens <pre> too, which costs a question-answerer nothing.)
            self.parts.append(re.sub(r"\s+", " ", data))

    def _block_separate(self, tag):
        if tag in self._PARAGRAPH_BLOCKS:
            self.parts.append(_HTML_PARAGRAPH_BREAK)
        elif tag in self._LINE_BLOCKS:
            self.parts.append(_HTML_LINE_BREAK)


# Markers for the breaks, resolved once the page is read: "</li><li>" or "</p>\n<p>" is one
# break, not two. Control characters cannot clash with the text: _text_decode refuses them.
_HTML_LINE_BREAK = "\x01"
_HTML_PARAGRAPH_BREAK = "\x02"
_HTML_BREAKS = re.compile(r"[ \x01\x02]*[\x01\x02][ \x01\x02]*")


def _html_text(text: str) -> str:
    parser = _HtmlTextParser()
    parser.feed(text)
    parser.close()
    joined = "".join(parser.parts)
    joined = _HTML_BREAKS.sub(lambda m: "\n\n" if _HTML_PARAGRAPH_BREAK in m.group() else "\n", joined)
    joined = re.sub(r" {2,}", " ", joined)
    # The separator before a row's first cell.
    return re.sub(r"(?m)^\| ", "", joined)


def _docx_extract(*, file: BinaryIO) -> str:
    damaged = "The file is damaged and could not be read as a Word document."
    try:
        with zipfile.ZipFile(file) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ExtractionFailed(damaged) from exc
    if unpacked > DOCX_UNPACKED_MAX_BYTES:
        raise ExtractionFailed("The Word document is too large once unpacked; split it into smaller files.")
    file.seek(0)
    try:
        document = docx.Document(file)
    # python-docx raises whatever its ZIP, XML and OPC layers raise on a malformed package.
    except Exception as exc:
        raise ExtractionFailed(damaged) from exc
    blocks: list[str] = []
    _docx_blocks(document, blocks)
    return "\n\n".join(blocks)


def _docx_blocks(container, blocks: list[str]) -> None:
    """Paragraphs and tables in document order; a table row becomes one line of its cells."""
    for item in container.iter_inner_content():
        if isinstance(item, Paragraph):
            if item.text.strip():
                blocks.append(item.text)
        elif isinstance(item, Table):
            rows = []
            for row in item.rows:
                cells = []
                seen = set()
                for cell in row.cells:
                    # A merged cell is returned once per grid column it spans.
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    nested: list[str] = []
                    _docx_blocks(cell, nested)
                    cells.append(" ".join(" ".join(nested).split()))
                if any(cells):
                    rows.append(" | ".join(cells))
            if rows:
                blocks.append("\n".join(rows))


_PDF_DAMAGED = "The file is damaged and could not be read as PDF."


def _pdf_extract(*, file: BinaryIO) -> ExtractedText:
    try:
        reader = pypdf.PdfReader(file)
        encrypted = reader.is_encrypted
        # Many PDFs are encrypted with an empty user password only to restrict printing or
        # copying; those open without a password and are extracted like any other.
        if encrypted and reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
            raise ExtractionFailed("The PDF is encrypted; upload it without a password.")
        page_count = len(reader.pages)
        pages = []
        length = 0
        for page in reader.pages:
            page_text = _text_tidy(page.extract_text() or "")
            length += len(page_text)
            # Checked per page so that a huge document stops early rather than at the end.
            if length > TEXT_MAX_CHARS:
                raise ExtractionFailed(_TOO_MUCH_TEXT)
            pages.append(page_text)
    except ExtractionFailed:
        raise
    # pypdf raises many exception types on malformed input (its own, and KeyError, ValueError,
    # zlib and struct errors from deep inside); to the user they all mean the same thing.
    except Exception as exc:
        raise ExtractionFailed(_PDF_DAMAGED) from exc
    if page_count == 0:
        raise ExtractionFailed("The PDF has no pages.")

    # Pages joined by a blank line, so that the chunker prefers to break between pages.
    text_parts = []
    page_starts = []
    offset = 0
    for page_text in pages:
        if page_text and text_parts:
            text_parts.append("\n\n")
            offset += 2
        page_starts.append(offset)
        if page_text:
            text_parts.append(page_text)
            offset += len(page_text)
    text = "".join(text_parts)
    if not text:
        raise ExtractionFailed("The document has no extractable text (a scanned image?).")
    if len(text) > TEXT_MAX_CHARS:
        raise ExtractionFailed(_TOO_MUCH_TEXT)
    return ExtractedText(text=text, page_count=page_count, char_count=len(text), page_starts=tuple(page_starts))


# ---------------------------------------------------------------------------------------------
# Chunking
# ---------------------------------------------------------------------------------------------

# 1000 characters is about 250 English tokens: small enough that a retrieved chunk is about one
# thing and several fit an answerer's context, large enough to hold a paragraph with its point.
CHUNK_SIZE = 1000
# 20%: a sentence cut by a chunk boundary is whole in one of the two neighbours.
CHUNK_OVERLAP = 200


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    # Character offsets into the extracted text: text[start:end] == chunk.text.
    start: int
    end: int
    # The PDF page (from 1) the chunk starts on; None when the document has no pages.
    page: int | None = None


# . ! ? and the ellipsis, then closing quotes or brackets, before a space; or a CJK full stop,
# exclamation or question mark, which no space follows.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*(?=\s)|[\u3002\uff01\uff1f]")
_WHITESPACE = re.compile(r"\s")


def text_chunk(
    text: str,
    *,
    size: int = CHUNK_SIZE,
    overlap: int = CHUNK_OVERLAP,
    page_starts: tuple[int, ...] | None = None,
) -> list[Chunk]:
    """Overlapping windows of at most `size` characters over `text`, in order.

    Each chunk ends at the last paragraph break (blank line) in the second half of its window,
    else at the last sentence end, else line break, else space, else `size` characters in. The
    next chunk starts about `overlap` characters before that end, moved forward to the start of
    a word. Chunks carry no leading or trailing whitespace, so together they cover every
    non-whitespace character. Deterministic: the same input gives the same chunks.
    """
    if size < 1 or not 0 <= overlap < size:
        raise ValueError("text_chunk needs size >= 1 and 0 <= overlap < size")
    chunks: list[Chunk] = []
    length = len(text.rstrip())
    start = _word_start_at_or_after(text, 0, length)
    while start < length:
        if length - start <= size:
            end = length
        else:
            end = _break_find(text, start=start, size=size, overlap=overlap)
            end = start + len(text[start:end].rstrip())
            if chunks and end <= chunks[-1].end:
                # The window holds nothing past the previous chunk but a run of whitespace: start
                # after it instead. Nothing is lost, the whitespace itself separates the two.
                start = _word_start_at_or_after(text, chunks[-1].end, length)
                continue
        page = bisect.bisect_right(page_starts, start) if page_starts else None
        chunks.append(Chunk(index=len(chunks), text=text[start:end], start=start, end=end, page=page))
        if end >= length:
            break
        # Always forward, even when trimming pulled the end back into the overlap.
        next_start = max(end - overlap, start + 1)
        start = _word_start_at_or_after(text, next_start, length, before=end)
    return chunks


def _break_find(text: str, *, start: int, size: int, overlap: int) -> int:
    """Where the chunk from `start` ends: the best boundary in the later part of its window."""
    limit = start + size
    # Not before half the window (no tiny chunks), and past the overlap (the next one moves on).
    earliest = start + max(size // 2, overlap + 1)
    paragraph = text.rfind("\n\n", earliest, limit + 2)
    if paragraph != -1:
        return paragraph
    sentence_end = None
    for match in _SENTENCE_END.finditer(text, earliest, limit + 1):
        if match.end() <= limit:
            sentence_end = match.end()
    if sentence_end is not None:
        return sentence_end
    line = text.rfind("\n", earliest, limit + 1)
    if line != -1:
        return line
    for position in range(limit, earliest - 1, -1):
        if text[position].isspace():
            return position
    # One word longer than half a window (a URL, a base64 blob): cut it.
    return limit


def _word_start_at_or_after(text: str, position: int, length: int, *, before: int | None = None) -> int:
    """The first non-space character at or after `position`, moved past a partial word.

    A position inside a word moves to the next word, unless that is not before `before` (the
    end of the previous chunk): then the word is long and the cut stays, keeping the overlap.
    """
    if 0 < position < length and not text[position - 1].isspace() and not text[position].isspace():
        space = _WHITESPACE.search(text, position, before if before is not None else length)
        if space is None:
            return position
        position = space.start()
    while position < length and text[position].isspace():
        position += 1
    return position
