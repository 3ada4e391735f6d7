"""Real files of every supported type (and of some unsupported ones), made in memory."""

import io
import zipfile

import docx
import pypdf
from fpdf import FPDF
from PIL import Image


def pdf_with_text(pages: list[str]) -> bytes:
    """A PDF with a text layer: one page per string, Helvetica (Latin-1 only)."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def pdf_scanned() -> bytes:
    """A page that is only a picture, like a scan without OCR."""
    picture = Image.new("RGB", (200, 100), "white")
    for x in range(20, 180):
        picture.putpixel((x, 50), (0, 0, 0))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    buffer.seek(0)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(buffer, x=10, y=10, w=150)
    return bytes(pdf.output())


def pdf_blank_pages(count: int) -> bytes:
    pdf = FPDF()
    for _ in range(count):
        pdf.add_page()
    return bytes(pdf.output())


def pdf_encrypted(source: bytes, *, user_password: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(source)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def docx_with_paragraphs_and_table(*, paragraphs: list[str], table: list[list[str]]) -> bytes:
    document = docx.Document()
    document.add_heading("Quarterly report", level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    grid = document.add_table(rows=len(table), cols=len(table[0]))
    for row, values in zip(grid.rows, table, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("Closing paragraph after the table.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zip_archive(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def png_image() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


# The first bytes of an x86-64 Linux executable, as `head -c 64 /bin/ls` shows them.
ELF_HEADER = (
    b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00\x01\x00\x00\x00"
    b"\x10m\x00\x00\x00\x00\x00\x00@\x00\x00\x00\x00\x00\x00\x00\xa8\x23\x02\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00@\x008\x00\r\x00@\x00\x1f\x00\x1e\x00"
) + bytes(range(256)) * 8
