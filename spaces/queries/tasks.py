"""rq jobs of queries: thin wrappers around services."""

import logging

import django_rq
import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from spaces.queries import indexes, services

logger = logging.getLogger(__name__)

_WAITING = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def query_run_job(space_id: str, query_id: str):
    status = services.query_run(space_id=space_id, query_id=query_id)
    return str(status) if status else None


def query_run_enqueue(*, space_id: str, query_id: str) -> None:
    try:
        django_rq.get_queue("default").enqueue(query_run_job, space_id, query_id, job_id=f"query-run-{query_id}")
    except redis.RedisError:
        # The query waits as pending; past its deadline the sweeper fails it with a reason.
        logger.warning("could not queue query %s; it will time out unless queued again", query_id)


def query_run_queued(*, query_id: str) -> bool:
    """Whether the query's job is waiting or running."""
    queue = django_rq.get_queue("default")
    try:
        return Job.fetch(f"query-run-{query_id}", connection=queue.connection).get_status() in _WAITING
    except NoSuchJobError:
        return False


def space_index_build_job(tenant_id: str, space_id: str):
    state = indexes.space_index_build(tenant_id=tenant_id, space_id=space_id)
    return state.built_version if state else None


def space_index_build_enqueue(*, tenant_id: str, space_id: str) -> None:
    """Queues a build unless one is queued and not started: that one will build the newest
    version, so a burst of uploads costs one build, not one per document."""
    queue = django_rq.get_queue("documents")
    job_id = f"space-index-{space_id}"
    try:
        try:
            if Job.fetch(job_id, connection=queue.connection).get_status() == JobStatus.QUEUED:
                return
        except NoSuchJobError:
            pass
        queue.enqueue(space_index_build_job, tenant_id, space_id, job_id=job_id)
    except redis.RedisError:
        logger.warning("could not queue the index build of space %s; the next query builds it", space_id)
