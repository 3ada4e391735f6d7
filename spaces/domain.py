"""Spaces: a tenant's collections of documents (and, later, of queries)."""

from dataclasses import dataclass, field
from enum import StrEnum

NAME_MAX = 255
DESCRIPTION_MAX = 1000
TAGS_MAX = 20
TAG_MAX = 50


class SpaceStatus(StrEnum):
    ACTIVE = "active"
    # Deleted: hidden at once (404), its documents removed by a job, then the space itself.
    DELETED = "deleted"


@dataclass(frozen=True)
class Space:
    id: str
    tenant_id: str
    name: str
    description: str
    tags: tuple[str, ...]
    metadata: dict
    document_count: int
    created_by: str
    created_at: str
    updated_at: str
    status: SpaceStatus = SpaceStatus.ACTIVE
    etag: str | None = field(default=None, compare=False)


def name_key(name: str) -> str:
    """What names are unique by, within a tenant: case-insensitively."""
    return name.casefold()
