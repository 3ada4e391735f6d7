"""Documents: files uploaded into a space, their text extracted and split into chunks."""

from dataclasses import dataclass, field
from enum import StrEnum


class DocumentStatus(StrEnum):
    UPLOADED = "uploaded"  # stored; waiting for its processing job
    PROCESSING = "processing"
    PROCESSED = "processed"  # text extracted and chunked
    FAILED = "failed"  # see failure_reason
    DELETED = "deleted"  # hidden at once (404); its file, chunks and record are being removed


LISTED_STATUSES = (DocumentStatus.UPLOADED, DocumentStatus.PROCESSING, DocumentStatus.PROCESSED,
                   DocumentStatus.FAILED)


@dataclass(frozen=True)
class Document:
    id: str
    tenant_id: str
    space_id: str
    filename: str
    kind: str  # txt, md, html, csv, json, pdf, docx
    media_type: str
    size_bytes: int
    sha256: str
    status: DocumentStatus
    metadata: dict
    blob_name: str
    created_by: str
    created_at: str
    updated_at: str
    processing_attempts: int = 0
    processing_started_at: str | None = None
    processed_at: str | None = None
    failure_reason: str | None = None
    page_count: int | None = None
    char_count: int | None = None
    chunk_count: int | None = None
    etag: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DocumentChunk:
    id: str  # "<document id>:<index>": rewriting a document's chunks overwrites, never duplicates
    tenant_id: str
    space_id: str
    document_id: str
    index: int
    text: str
    start: int  # character offsets in the document's text
    end: int
    page: int | None = None
