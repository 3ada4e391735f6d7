"""The GraphQL schema: each domain's queries and mutations (its `graphql/` folder), merged."""

import graphene

from documents.graphql.mutations import DocumentMutations
from documents.graphql.queries import DocumentQueries
from evaapi.events.graphql.queries import EventQueries
from evaapi.graphql.permissions import root_scopes_check
from spaces.graphql.mutations import SpaceMutations
from spaces.graphql.queries import SpaceQueries
from spaces.queries.graphql.mutations import QueryRunMutations
from spaces.queries.graphql.queries import QueryRunQueries
from subscriptions_app.subscriptions import Subscription
from webhooks.graphql.mutations import WebhookMutations
from webhooks.graphql.queries import WebhookQueries


class Query(SpaceQueries, DocumentQueries, QueryRunQueries, WebhookQueries, EventQueries, graphene.ObjectType):
    pass


class Mutation(SpaceMutations, DocumentMutations, QueryRunMutations, WebhookMutations, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation, subscription=Subscription)
root_scopes_check(schema.graphql_schema)
