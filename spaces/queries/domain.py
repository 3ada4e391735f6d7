"""Queries: a question asked of a space, answered in the background from its documents."""

from dataclasses import dataclass, field
from enum import StrEnum

QUESTION_MAX = 2000
TOP_K_DEFAULT = 5
TOP_K_MAX = 20


class QueryStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (QueryStatus.PENDING, QueryStatus.PROCESSING)
FINAL_STATUSES = (QueryStatus.COMPLETED, QueryStatus.FAILED, QueryStatus.CANCELLED)


@dataclass(frozen=True)
class QueryParameters:
    top_k: int = TOP_K_DEFAULT
    temperature: float | None = None
    max_tokens: int | None = None
    document_ids: tuple[str, ...] | None = None


def query_parameters_make(values: dict | None) -> QueryParameters:
    """Parameters from checked input (QuerySubmitInput's): document ids as strings, once each."""
    values = dict(values or {})
    if values.get("document_ids"):
        values["document_ids"] = tuple(dict.fromkeys(str(value) for value in values["document_ids"]))
    return QueryParameters(**values)


@dataclass(frozen=True)
class Query:
    id: str
    tenant_id: str
    space_id: str
    question: str
    parameters: QueryParameters
    status: QueryStatus
    created_by: str
    created_at: str
    updated_at: str
    deadline_at: str  # past it, an open query ends failed
    started_at: str | None = None
    completed_at: str | None = None
    failure_reason: str | None = None
    result: dict | None = None  # {answer, citations, provider, model, usage, latency_ms}
    etag: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SpaceIndexState:
    """Which version of a space's retrieval index is wanted and which is built (and where)."""

    space_id: str
    tenant_id: str
    version: int  # raised by every change to the space's processed documents
    built_version: int  # the version the stored index was built for (0: none yet)
    blob_name: str | None
    chunk_count: int
    etag: str | None = field(default=None, compare=False)
