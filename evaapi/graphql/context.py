"""What every resolver of one GraphQL request sees: who is calling, and the request's loaders."""

from collections.abc import Callable
from dataclasses import dataclass, field

from graphene.utils.dataloader import DataLoader

from evaapi.auth.domain import Principal, Tenant

MAX_BATCH_SIZE = 100


@dataclass
class GraphQLContext:
    principal: Principal
    # Over a WebSocket: `events_listen(groups=[...], types=[...])` -> an EventStream
    # fed by the socket's Channels groups (subscriptions_app). None over HTTP.
    events_listen: Callable | None = None
    memo: dict = field(default_factory=dict)  # per-request answers that do not change (lookahead)
    _loaders: dict = field(default_factory=dict)
    _caches: dict = field(default_factory=dict)

    @property
    def tenant(self) -> Tenant:
        return self.principal.tenant

    def loader(self, batch_load: Callable) -> DataLoader:
        """The request's DataLoader for `batch_load(context, keys)`, made on first use: one per
        request, so its cache never outlives the request nor crosses tenants."""
        loader = self._loaders.get(batch_load)
        if loader is None:
            async def load(keys):
                return await batch_load(self, list(keys))

            cache = self._caches[batch_load] = {}
            loader = self._loaders[batch_load] = DataLoader(batch_load_fn=load, max_batch_size=MAX_BATCH_SIZE,
                                                               cache_map=cache)
        return loader

    def load(self, batch_load: Callable, key):
        """The value for `key` at once when the request's loader holds it already (primed, or
        loaded earlier), else the loader's awaitable: a resolver that returns a plain value keeps
        the executor on its synchronous path, which costs far less per object than an await."""
        loader = self.loader(batch_load)
        future = self._caches[batch_load].get(key)
        if future is not None and future.done() and not future.cancelled() and future.exception() is None:
            return future.result()
        return loader.load(key)
