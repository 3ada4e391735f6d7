"""Writes of documents: upload, processing (text extraction and chunks), deletion. Each status
change records its event in the same store write (evaapi.events); uploads and deletions are
audited."""

import hashlib
import logging
import uuid
from datetime import timedelta

from django.conf import settings

from documents import repositories, storage
from documents.domain import Document, DocumentChunk, DocumentStatus
from documents.extraction import (
    ExtractionFailed,
    UnsupportedDocument,
    document_type_detect,
    filename_sanitize,
    text_chunk,
    text_extract,
)
from documents.repositories import DOCUMENTS
from evaapi.auth.domain import Tenant
from evaapi.auth.services.audit import audit_record
from evaapi.events.domain import Event, event_make
from evaapi.events.outbox import outbox_add, outbox_relay, outbox_relay_now
from evaapi.exceptions import InvalidInput, PayloadTooLarge, ResourceConflict, UnsupportedMediaType, VersionMismatch
from evaapi.metadata import metadata_check
from evaapi.preconditions import if_match_check
from evaapi.store import Conflict, NotFound, PreconditionFailed
from evaapi.times import iso, parse_iso, utc_now
from spaces.selectors import space_get
from spaces.services import space_document_count_refresh

logger = logging.getLogger(__name__)

_HASH_BLOCK = 1024 * 1024
# A job that died (a killed worker) is tried again this many times in all, then the document fails.
MAX_PROCESSING_ATTEMPTS = 3


def _event_data(item: dict, **extra) -> dict:
    return {"document_id": item["id"], "space_id": item["space_id"], "filename": item["filename"],
            "status": item["status"], **extra}


def _sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for block in iter(lambda: file.read(_HASH_BLOCK), b""):
        digest.update(block)
    file.seek(0)
    return digest.hexdigest()


def _duplicate(existing: Document) -> ResourceConflict:
    return ResourceConflict(
        f"This space holds the same content already: document {existing.id} ({existing.filename}).",
        details={"document_id": existing.id, "filename": existing.filename},
    )


def _blob_discard(name: str) -> None:
    try:
        storage.blob_delete(name)
    except Exception:
        logger.exception("the file of an upload that was not recorded could not be removed: %s", name)


def document_upload(*, tenant: Tenant, actor: str, space_id: str, file, filename: str,
                    metadata: dict | None = None) -> Document:
    """Checks, stores and records an uploaded file, then queues its processing. A refused
    upload stores nothing."""
    space = space_get(tenant=tenant, space_id=space_id)
    limit = settings.EVA_MAX_UPLOAD_MB * 1024 * 1024
    if file.size > limit:
        raise PayloadTooLarge(f"The file is larger than {settings.EVA_MAX_UPLOAD_MB} MiB.")
    if file.size == 0:
        raise InvalidInput("The file is empty.", details={"file": ["The file is empty."]})
    metadata_check(metadata or {})
    safe_name = filename_sanitize(filename)
    try:
        detected = document_type_detect(filename=safe_name, file=file)
    except UnsupportedDocument as exc:
        raise UnsupportedMediaType(str(exc)) from None
    sha256 = _sha256(file)
    existing = repositories.document_by_content(tenant_id=tenant.id, space_id=space.id, sha256=sha256)
    if existing is not None:
        raise _duplicate(existing)

    document_id = str(uuid.uuid4())
    now = iso(utc_now())
    name = storage.blob_name(tenant_id=tenant.id, space_id=space.id, document_id=document_id, filename=safe_name)
    document = Document(
        id=document_id, tenant_id=tenant.id, space_id=space.id, filename=safe_name, kind=detected.kind,
        media_type=detected.media_type, size_bytes=file.size, sha256=sha256, status=DocumentStatus.UPLOADED,
        metadata=metadata or {}, blob_name=name, created_by=actor, created_at=now, updated_at=now,
    )
    item = repositories.document_item(document)
    event = event_make(type="document.added", tenant_id=tenant.id, space_id=space.id,
                       data=_event_data(item, size_bytes=file.size))
    storage.blob_save(name, file)
    try:
        item = repositories.document_insert(outbox_add(item, event))
    except Conflict:
        # The same content won a race to this space: this upload keeps nothing.
        storage.blob_delete(name)
        existing = repositories.document_by_content(tenant_id=tenant.id, space_id=space.id, sha256=sha256)
        raise _duplicate(existing) if existing else ResourceConflict("The upload conflicted; try again.") from None
    except BaseException:
        # Not recorded (the store refused it, or is down): nothing refers to the file.
        _blob_discard(name)
        raise
    audit_record(tenant_id=tenant.id, actor=actor, action="document.upload", resource_type="document",
                 resource_id=document_id)
    item = outbox_relay_now(DOCUMENTS, item)
    from documents.tasks import document_process_enqueue

    document_process_enqueue(tenant_id=tenant.id, document_id=document_id)
    return repositories.document_from_item(item)


# --- processing ------------------------------------------------------------------------------
def _transition(item: dict, changes: dict, event_type: str | None = None, **event_data) -> dict | None:
    """Writes `changes` (and the event) on the version read; None if it changed meanwhile."""
    updated = {**item, **changes, "updated_at": iso(utc_now())}
    if event_type is not None:
        event = event_make(type=event_type, tenant_id=item["tenant_id"], space_id=item["space_id"],
                           data=_event_data(updated, **event_data))
        updated = outbox_add(updated, event)
    try:
        written = repositories.document_replace(updated, etag=item["_etag"])
    except (PreconditionFailed, NotFound):
        return None
    return outbox_relay_now(DOCUMENTS, written) if event_type is not None else written


def _processing_stale(item: dict) -> bool:
    started = parse_iso(item.get("processing_started_at"))
    timeout = timedelta(seconds=settings.DOCUMENT_PROCESSING_TIMEOUT_SECONDS)
    return started is None or utc_now() - started > timeout


def document_process(*, tenant_id: str, document_id: str) -> DocumentStatus | None:
    """Extracts the document's text and writes its chunks: uploaded → processing → processed, or
    failed with a reason a user can act on. Idempotent: a document another job is processing,
    or one already done, is left alone. Returns the status it ends in (None: nothing done)."""
    try:
        item = repositories.document_item_read(tenant_id=tenant_id, document_id=document_id)
    except NotFound:
        return None
    status = item["status"]
    if status == DocumentStatus.PROCESSING and not _processing_stale(item):
        return None
    if status not in (DocumentStatus.UPLOADED, DocumentStatus.PROCESSING):
        return None
    attempts = item.get("processing_attempts", 0) + 1
    item = _transition(item, {"status": str(DocumentStatus.PROCESSING), "processing_attempts": attempts,
                              "processing_started_at": iso(utc_now()), "failure_reason": None})
    if item is None:
        return None  # another job took it
    try:
        with storage.blob_open(item["blob_name"]) as file:
            extracted = text_extract(kind=item["kind"], file=file)
        chunks = text_chunk(extracted.text, page_starts=extracted.page_starts)
        repositories.chunks_write([
            DocumentChunk(id=f"{document_id}:{chunk.index}", tenant_id=tenant_id, space_id=item["space_id"],
                          document_id=document_id, index=chunk.index, text=chunk.text, start=chunk.start,
                          end=chunk.end, page=chunk.page)
            for chunk in chunks
        ])
        if attempts > 1:
            # A longer earlier attempt may have left chunks past the end (a first one cannot).
            repositories.chunks_delete_after(space_id=item["space_id"], document_id=document_id, index=len(chunks))
    except ExtractionFailed as exc:
        _transition(item, {"status": str(DocumentStatus.FAILED), "failure_reason": str(exc),
                           "processed_at": iso(utc_now())}, "document.failed", reason=str(exc))
        return DocumentStatus.FAILED
    except Exception:
        logger.exception("processing document %s failed (attempt %d)", document_id, attempts)
        _attempt_failed(item, attempts)
        raise
    written = _transition(
        item,
        {"status": str(DocumentStatus.PROCESSED), "processed_at": iso(utc_now()), "page_count": extracted.page_count,
         "char_count": extracted.char_count, "chunk_count": len(chunks)},
        "document.processed", page_count=extracted.page_count, char_count=extracted.char_count,
        chunk_count=len(chunks),
    )
    return DocumentStatus.PROCESSED if written is not None else None


def _attempt_failed(item: dict, attempts: int) -> None:
    """After an unexpected error: back to uploaded for another attempt, or failed for good."""
    if attempts >= MAX_PROCESSING_ATTEMPTS:
        reason = f"The document could not be processed after {attempts} attempts; upload it again or contact support."
        _transition(item, {"status": str(DocumentStatus.FAILED), "failure_reason": reason,
                           "processed_at": iso(utc_now())}, "document.failed", reason=reason)
        return
    if _transition(item, {"status": str(DocumentStatus.UPLOADED)}) is not None:
        from documents.tasks import document_process_enqueue

        document_process_enqueue(tenant_id=item["tenant_id"], document_id=item["id"])


# --- deletion --------------------------------------------------------------------------------
def document_delete(*, tenant: Tenant, actor: str, document_id: str, if_match: str | None = None) -> None:
    """Hides the document at once (404 from then on), then removes its file, chunks and record.
    With If-Match, only that version of it (412 otherwise)."""
    from documents.selectors import document_item_get

    item = document_item_get(tenant=tenant, document_id=document_id)
    if_match_check(item, if_match, what="document")
    deleted = {"status": str(DocumentStatus.DELETED),
               "content_key": f"{item['content_key']}#deleted:{document_id}"}
    written = _transition(item, deleted, "document.deleted")
    if written is None:
        if if_match is not None:
            raise VersionMismatch("The document has changed since that version (If-Match); read it again.")
        raise ResourceConflict("The document changed while it was being deleted; try again.")
    audit_record(tenant_id=tenant.id, actor=actor, action="document.delete", resource_type="document",
                 resource_id=document_id)
    document_purge(tenant_id=tenant.id, document_id=document_id)


def document_purge(*, tenant_id: str, document_id: str) -> bool:
    """Removes a deleted document's chunks, file and record. Idempotent; the sweeper repeats it
    for a deletion a crash interrupted."""
    try:
        item = repositories.document_item_read(tenant_id=tenant_id, document_id=document_id)
    except NotFound:
        return False
    if item["status"] != DocumentStatus.DELETED:
        return False
    repositories.chunks_delete_after(space_id=item["space_id"], document_id=document_id, index=0)
    storage.blob_delete(item["blob_name"])
    # Its events first: the record goes, and an event still in its outbox would go with it.
    if outbox_relay(DOCUMENTS, item) is not None:
        repositories.document_delete(tenant_id=tenant_id, document_id=document_id)
    return True


def documents_purge_for_space(*, tenant_id: str, space_id: str) -> int:
    """Removes every document of a (deleted) space, whatever its status."""
    purged = 0
    while True:
        items = repositories.document_items_of_space(tenant_id=tenant_id, space_id=space_id, limit=50)
        if not items:
            return purged
        for item in items:
            if item["status"] != DocumentStatus.DELETED:
                item = _transition(item, {"status": str(DocumentStatus.DELETED),
                                          "content_key": f"{item['content_key']}#deleted:{item['id']}"})
                if item is None:
                    continue  # changed meanwhile: the next round sees it again
            purged += document_purge(tenant_id=tenant_id, document_id=item["id"])


# --- the sweeper's part ----------------------------------------------------------------------
def documents_recover_sweep(*, grace_seconds: float = 60, limit: int = 50) -> int:
    """Finishes what a crash, a killed worker or a flushed Redis left: documents waiting for a
    job that no queue holds, processing that stopped (retried, then failed), deletions cut short."""
    from documents.tasks import document_process_enqueue, document_process_queued

    changed_before = iso(utc_now() - timedelta(seconds=grace_seconds))
    fixed = 0
    for item in repositories.documents_in_status(status=DocumentStatus.UPLOADED, changed_before=changed_before,
                                                 limit=limit):
        if not document_process_queued(document_id=item["id"]):
            document_process_enqueue(tenant_id=item["tenant_id"], document_id=item["id"])
            fixed += 1
    for item in repositories.documents_in_status(status=DocumentStatus.PROCESSING, changed_before=changed_before,
                                                 limit=limit):
        if _processing_stale(item):
            _attempt_failed(item, item.get("processing_attempts", 1))
            fixed += 1
    for item in repositories.documents_in_status(status=DocumentStatus.DELETED, changed_before=changed_before,
                                                 limit=limit):
        fixed += document_purge(tenant_id=item["tenant_id"], document_id=item["id"])
    return fixed


def document_count_publish(event: Event) -> None:
    """A sink: a document added or deleted sets its space's document_count (idempotent: a count,
    not an increment), so the count holds under concurrent uploads and deletes and after crashes."""
    if event.type not in ("document.added", "document.deleted") or not event.space_id:
        return
    space_document_count_refresh(
        tenant_id=event.tenant_id, space_id=event.space_id,
        count_documents=lambda: repositories.document_count(tenant_id=event.tenant_id, space_id=event.space_id),
    )

