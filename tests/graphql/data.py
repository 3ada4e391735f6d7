"""Spaces full of documents and answered queries, written straight through the repositories
(processing and answering are tested where they live; here only their stored shape matters)."""

import hashlib
import uuid
from datetime import timedelta

from documents import repositories as document_repositories
from documents.domain import Document, DocumentStatus
from evaapi.times import iso, utc_now
from spaces.queries import repositories as query_repositories
from spaces.queries.domain import Query, QueryParameters, QueryStatus
from spaces.services import space_create


def space_filled(tenant, *, name: str, documents: int, queries: int, citations: int = 2):
    """A space with `documents` processed documents and `queries` completed queries, each citing
    the space's first `citations` documents; returns (space, documents, queries)."""
    space = space_create(tenant=tenant, actor="test", name=name)
    start = utc_now()
    made = []
    for n in range(documents):
        at = iso(start + timedelta(milliseconds=n))
        sha = hashlib.sha256(f"{space.id}/{n}".encode()).hexdigest()
        document = Document(
            id=str(uuid.uuid4()), tenant_id=tenant.id, space_id=space.id, filename=f"doc-{n}.txt", kind="txt",
            media_type="text/plain", size_bytes=100 + n, sha256=sha, status=DocumentStatus.PROCESSED, metadata={},
            blob_name=f"{space.id}/{sha}", created_by="test", created_at=at, updated_at=at, processed_at=at,
            char_count=100, chunk_count=1, page_count=None,
        )
        made.append(document_repositories.document_from_item(
            document_repositories.document_insert(document_repositories.document_item(document))))
    runs = []
    for n in range(queries):
        at = iso(start + timedelta(milliseconds=n))
        cited = made[:citations]
        result = {
            "answer": "An answer [1].", "provider": "extractive", "model": None, "usage": None,
            "latency_ms": {"retrieval": 1.0, "generation": 0.5, "total": 1.5},
            "citations": [{"document_id": d.id, "filename": d.filename, "chunk_id": f"{d.id}:0", "snippet": "text",
                           "score": 0.5} for d in cited],
        }
        run = Query(
            id=str(uuid.uuid4()), tenant_id=tenant.id, space_id=space.id, question=f"question {n}?",
            parameters=QueryParameters(), status=QueryStatus.COMPLETED, created_by="test", created_at=at,
            updated_at=at, deadline_at=at, started_at=at, completed_at=at, result=result,
        )
        runs.append(query_repositories.query_from_item(
            query_repositories.query_insert(query_repositories.query_item(run))))
    return space, made, runs
