"""rq jobs of documents (queue `documents`): thin wrappers around services."""

import logging

import django_rq
import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from documents import services

logger = logging.getLogger(__name__)

_WAITING = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def _job_id(document_id: str) -> str:
    return f"document-process-{document_id}"


def document_process_job(tenant_id: str, document_id: str):
    status = services.document_process(tenant_id=tenant_id, document_id=document_id)
    return str(status) if status else None


def document_process_enqueue(*, tenant_id: str, document_id: str) -> None:
    try:
        django_rq.get_queue("documents").enqueue(document_process_job, tenant_id, document_id,
                                                 job_id=_job_id(document_id))
    except redis.RedisError:
        # The document waits in the store as `uploaded`: the sweeper queues it again.
        logger.warning("could not queue document %s for processing; the sweeper will", document_id)


def document_process_queued(*, document_id: str) -> bool:
    """Whether a processing job for the document is waiting or running."""
    queue = django_rq.get_queue("documents")
    try:
        return Job.fetch(_job_id(document_id), connection=queue.connection).get_status() in _WAITING
    except NoSuchJobError:
        return False
