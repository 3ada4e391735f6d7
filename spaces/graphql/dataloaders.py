"""The spaces' DataLoaders: each batch is one store call in the tenant's partition."""

from evaapi.concurrency import run_sync
from spaces.selectors import spaces_by_id


async def spaces_by_id_load(context, space_ids: list[str]) -> list:
    """Spaces by id (None for one that is not an active space of the tenant)."""
    found = await run_sync(spaces_by_id, tenant=context.tenant, space_ids=space_ids)
    return [found.get(space_id) for space_id in space_ids]
