from functools import cache

from django.conf import settings

from evaapi.store.base import Store


@cache
def store() -> Store:
    """The configured store, built once per process (a Cosmos client costs an account read)."""
    if settings.EVA_STORE_BACKEND == "cosmos":
        from evaapi.store.cosmos import CosmosStore

        return CosmosStore(
            endpoint=settings.COSMOS_ENDPOINT,
            key=settings.COSMOS_KEY or None,
            database=settings.COSMOS_DATABASE,
        )
    from evaapi.store.sqlite import SqliteStore

    return SqliteStore(settings.EVA_SQLITE_PATH)
