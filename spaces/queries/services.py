"""Writes of queries: submit, cancel, run (the job), time out. Every status change records its
event in the same store write (evaapi.events): query.submitted, .completed, .failed, .cancelled."""

import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings

from documents.selectors import documents_by_id
from evaapi.auth.domain import Tenant
from evaapi.auth.services.audit import audit_record
from evaapi.events.domain import event_make
from evaapi.events.outbox import outbox_add, outbox_relay, outbox_relay_now
from evaapi.exceptions import InvalidInput, RateLimited, ResourceConflict
from evaapi.store import NotFound, PreconditionFailed
from evaapi.times import iso, parse_iso, utc_now
from spaces.queries import repositories
from spaces.queries.answers import AnswerFailed, Passage, answer_provider
from spaces.queries.domain import FINAL_STATUSES, OPEN_STATUSES, Query, QueryParameters, QueryStatus
from spaces.queries.indexes import space_index_purge, space_retriever
from spaces.queries.repositories import QUERIES
from spaces.queries.selectors import query_item_get
from spaces.selectors import space_get

logger = logging.getLogger(__name__)

_CANCEL_ATTEMPTS = 5


def _event(item: dict, event_type: str, **extra):
    return event_make(type=event_type, tenant_id=item["tenant_id"], space_id=item["space_id"],
                      data={"query_id": item["id"], "space_id": item["space_id"], "status": item["status"], **extra})


def _documents_of_space_check(*, tenant: Tenant, space_id: str, document_ids) -> None:
    """The documents a query is limited to are the space's own: another tenant's id, another
    space's or a deleted document's would answer from nothing, silently."""
    found = documents_by_id(tenant=tenant, document_ids=document_ids)
    unknown = [document_id for document_id in document_ids
               if document_id not in found or found[document_id].space_id != space_id]
    if unknown:
        message = f"Not documents of this space: {', '.join(unknown)}."
        raise InvalidInput(message, details={"document_ids": [message]})


def query_submit(*, tenant: Tenant, actor: str, space_id: str, question: str,
                 parameters: QueryParameters) -> Query:
    """Records the question (pending) and queues its answering. At most EVA_MAX_PENDING_QUERIES
    open queries per tenant (429 beyond)."""
    space = space_get(tenant=tenant, space_id=space_id)
    if parameters.document_ids:
        _documents_of_space_check(tenant=tenant, space_id=space.id, document_ids=parameters.document_ids)
    if repositories.queries_open_count(tenant_id=tenant.id) >= settings.EVA_MAX_PENDING_QUERIES:
        raise RateLimited(f"This tenant has {settings.EVA_MAX_PENDING_QUERIES} queries waiting for an answer "
                          "already; try again when one is done.", retry_after=5)
    now = utc_now()
    query = Query(
        id=str(uuid.uuid4()), tenant_id=tenant.id, space_id=space.id, question=question, parameters=parameters,
        status=QueryStatus.PENDING, created_by=actor, created_at=iso(now), updated_at=iso(now),
        deadline_at=iso(now + timedelta(seconds=settings.EVA_QUERY_TIMEOUT_SECONDS)),
    )
    item = repositories.query_item(query)
    item = repositories.query_insert(outbox_add(item, _event(item, "query.submitted")))
    audit_record(tenant_id=tenant.id, actor=actor, action="query.submit", resource_type="query",
                 resource_id=query.id)
    item = outbox_relay_now(QUERIES, item)
    from spaces.queries.tasks import query_run_enqueue

    query_run_enqueue(space_id=space.id, query_id=query.id)
    return repositories.query_from_item(item)


def _transition(item: dict, changes: dict, event_type: str | None = None, **event_data) -> dict | None:
    """Writes `changes` (and the event) on the version read; None if it changed meanwhile."""
    updated = {**item, **changes, "updated_at": iso(utc_now())}
    if event_type is not None:
        updated = outbox_add(updated, _event(updated, event_type, **event_data))
    try:
        written = repositories.query_replace(updated, etag=item["_etag"])
    except (PreconditionFailed, NotFound):
        return None
    return outbox_relay_now(QUERIES, written) if event_type is not None else written


def _fail(item: dict, reason: str) -> dict | None:
    return _transition(item, {"status": str(QueryStatus.FAILED), "failure_reason": reason,
                              "completed_at": iso(utc_now())}, "query.failed", reason=reason)


def query_cancel(*, tenant: Tenant, actor: str, query_id: str) -> Query:
    """A pending or processing query ends cancelled (its answer, if one comes, is dropped); a
    final one is a 409."""
    for _ in range(_CANCEL_ATTEMPTS):
        item = query_item_get(tenant=tenant, query_id=query_id)
        if item["status"] in FINAL_STATUSES:
            raise ResourceConflict(f"The query is {item['status']} already; only a pending or processing query "
                                   "can be cancelled.", details={"status": item["status"]})
        written = _transition(item, {"status": str(QueryStatus.CANCELLED), "completed_at": iso(utc_now())},
                              "query.cancelled")
        if written is not None:
            audit_record(tenant_id=tenant.id, actor=actor, action="query.cancel", resource_type="query",
                         resource_id=query_id)
            return repositories.query_from_item(written)
    raise ResourceConflict("The query kept changing while it was being cancelled; try again.")


def _timed_out(item: dict) -> bool:
    return utc_now() > parse_iso(item["deadline_at"])


def _timeout_reason() -> str:
    return f"The query was not answered within {settings.EVA_QUERY_TIMEOUT_SECONDS} seconds."


def query_run(*, space_id: str, query_id: str) -> QueryStatus | None:
    """Answers a pending query: retrieval over the space's index, then the answer provider.
    Idempotent: a query another job took, cancelled or already final is left alone. Returns the
    status it ends in (None: nothing done)."""
    try:
        item = repositories.query_item_read(space_id=space_id, query_id=query_id)
    except NotFound:
        return None
    if item["status"] != QueryStatus.PENDING:
        return None
    if _timed_out(item):
        return QueryStatus.FAILED if _fail(item, _timeout_reason()) else None
    item = _transition(item, {"status": str(QueryStatus.PROCESSING), "started_at": iso(utc_now())})
    if item is None:
        return None  # cancelled, or another job took it
    parameters = item["parameters"]
    started = time.perf_counter()
    try:
        retriever = space_retriever(tenant_id=item["tenant_id"], space_id=space_id)
        document_ids = set(parameters["document_ids"]) if parameters.get("document_ids") else None
        searching = time.perf_counter()
        hits = retriever.search(item["question"], top_k=parameters["top_k"], document_ids=document_ids)
        retrieved = time.perf_counter()
        answer = answer_provider().answer(
            item["question"],
            [Passage(chunk_id=h.chunk_id, document_id=h.document_id, filename=h.filename, text=h.text,
                     score=h.score) for h in hits],
            temperature=parameters.get("temperature"), max_tokens=parameters.get("max_tokens"),
        )
    except AnswerFailed as exc:
        return QueryStatus.FAILED if _fail(item, str(exc)) else None
    except Exception:
        logger.exception("answering query %s failed", query_id)
        _fail(item, "The query could not be answered because of an internal error; it has been logged.")
        raise
    if _timed_out(item):
        return QueryStatus.FAILED if _fail(item, _timeout_reason()) else None
    finished = time.perf_counter()
    result = {
        "answer": answer.answer,
        "citations": [
            {"document_id": c.document_id, "filename": c.filename, "chunk_id": c.chunk_id, "snippet": c.snippet,
             "score": round(c.score, 4)}
            for c in answer.citations
        ],
        "provider": answer.provider,
        "model": answer.model,
        "usage": answer.usage,
        # retrieval: the search; total also counts finding the space's index (a store read, and
        # its load or build when this process lacks it).
        "latency_ms": {"retrieval": round((retrieved - searching) * 1000, 2),
                       "generation": round((finished - retrieved) * 1000, 2),
                       "total": round((finished - started) * 1000, 2)},
    }
    written = _transition(item, {"status": str(QueryStatus.COMPLETED), "result": result,
                                 "completed_at": iso(utc_now())}, "query.completed",
                          citation_count=len(result["citations"]))
    # Not written: cancelled (or timed out) meanwhile; that status stands and the answer is dropped.
    return QueryStatus.COMPLETED if written is not None else None


def queries_recover_sweep(*, grace_seconds: float = 30, limit: int = 50) -> int:
    """Fails open queries past their deadline (a job that never finished), and queues again the
    pending ones whose job no queue holds (a flushed Redis)."""
    from spaces.queries.tasks import query_run_enqueue, query_run_queued

    now = utc_now()
    fixed = 0
    for status in OPEN_STATUSES:
        for item in repositories.queries_overdue(status=status, before=iso(now), limit=limit):
            fixed += _fail(item, _timeout_reason()) is not None
    # Pending for longer than the grace: asked before (now - grace), so due before this.
    asked_before = now - timedelta(seconds=grace_seconds) + timedelta(seconds=settings.EVA_QUERY_TIMEOUT_SECONDS)
    for item in repositories.queries_overdue(status=QueryStatus.PENDING, before=iso(asked_before), limit=limit):
        if not query_run_queued(query_id=item["id"]):
            query_run_enqueue(space_id=item["space_id"], query_id=item["id"])
            fixed += 1
    return fixed


def queries_purge_for_space(*, tenant_id: str, space_id: str) -> int:
    """Removes a deleted space's queries and its retrieval index."""
    purged = 0
    while items := repositories.query_items_of_space(space_id=space_id, limit=100):
        for item in items:
            if outbox_relay(QUERIES, item) is not None:  # its last events survive it
                repositories.query_delete(space_id=space_id, query_id=item["id"])
                purged += 1
    space_index_purge(tenant_id=tenant_id, space_id=space_id)
    return purged
