"""rq jobs of spaces: thin wrappers around services."""

import logging

import django_rq
import redis

from spaces import services

logger = logging.getLogger(__name__)


def space_purge_job(tenant_id: str, space_id: str) -> bool:
    return services.space_purge(tenant_id=tenant_id, space_id=space_id)


def space_purge_enqueue(*, tenant_id: str, space_id: str) -> None:
    try:
        django_rq.get_queue("default").enqueue(space_purge_job, tenant_id, space_id)
    except redis.RedisError:
        # The space is marked deleted in the store: the sweeper purges it without the job.
        logger.warning("could not enqueue the purge of space %s; the sweeper will do it", space_id)
