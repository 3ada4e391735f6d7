"""The document store: the only code that talks to Cosmos DB or SQL for domain data.

Repositories use `store().container(SPEC)` and the types re-exported here."""

from evaapi.store.base import (
    BatchOp,
    Container,
    PatchOp,
    Store,
    StoreMismatch,
    batch_create,
    batch_delete,
    batch_patch,
    batch_replace,
    batch_upsert,
    patch_incr,
    patch_remove,
    patch_set,
)
from evaapi.store.connection import store
from evaapi.store.errors import Conflict, NotFound, PreconditionFailed, StoreError, StoreUnavailable, TooLarge
from evaapi.store.query import InvalidQuery, Page, Query
from evaapi.store.registry import ContainerSpec, Index, container_register, container_specs

__all__ = [
    "BatchOp",
    "Conflict",
    "Container",
    "ContainerSpec",
    "Index",
    "InvalidQuery",
    "NotFound",
    "Page",
    "PatchOp",
    "PreconditionFailed",
    "Query",
    "Store",
    "StoreError",
    "StoreMismatch",
    "StoreUnavailable",
    "TooLarge",
    "batch_create",
    "batch_delete",
    "batch_patch",
    "batch_replace",
    "batch_upsert",
    "container_register",
    "container_specs",
    "patch_incr",
    "patch_remove",
    "patch_set",
    "store",
]
