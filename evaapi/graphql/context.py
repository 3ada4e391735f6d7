"""What every resolver of one GraphQL request sees: who is calling, and the request's loaders."""

from collections.abc import Callable
from dataclasses import dataclass, field

from graphene.utils.dataloader import DataLoader

from evaapi.auth.domain import Principal, Tenant

MAX_BATCH_SIZE = 100


@dataclass
class GraphQLContext:
    principal: Principal
    # Over a WebSocket: `events_listen(groups=[...], types=[...], accept=...)` -> an EventStream
    # fed by the socket's Channels groups (subscriptions_app). None over HTTP.
    events_listen: Callable | None = None
    _loaders: dict = field(default_factory=dict)

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

            loader = self._loaders[batch_load] = DataLoader(batch_load_fn=load, max_batch_size=MAX_BATCH_SIZE)
        return loader
