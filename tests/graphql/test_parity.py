"""The same objects read through REST and through GraphQL give the same data (GraphQL names its
fields in camelCase and its enums in capitals; nothing else differs)."""

import re

import pytest

from tests.factories import api_key_make, client_for
from tests.graphql.data import space_filled
from tests.graphql.helpers import gql_data
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

SPACE = "id tenantId name description tags metadata documentCount createdBy createdAt updatedAt"
DOCUMENT = ("id tenantId spaceId filename mediaType sizeBytes sha256 status failureReason metadata pageCount "
            "charCount chunkCount createdBy createdAt updatedAt processedAt")
QUERY_RUN = ("id tenantId spaceId question parameters { topK temperature maxTokens documentIds } status "
             "failureReason result { answer citations { documentId filename chunkId snippet score } provider model "
             "usage latencyMs { retrieval generation total } } createdBy createdAt updatedAt startedAt completedAt "
             "deadlineAt")
WEBHOOK = ("id tenantId url description eventTypes spaceIds active disabledReason previousSecretExpiresAt successes "
           "failures consecutiveFailures lastSuccessAt lastFailureAt failingSince createdBy createdAt updatedAt")
EVENT = "id type tenantId spaceId timestamp data"


def _snake(value, *, enums=("status",)):
    """GraphQL's answer in REST's spelling."""
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower(): (
            item.lower() if key in enums and isinstance(item, str) else _snake(item, enums=()))
            for key, item in value.items()}
    if isinstance(value, list):
        return [_snake(item, enums=()) for item in value]
    return value


def test_rest_and_graphql_agree(tenant, settings):
    settings.WEBHOOK_ALLOWED_TARGETS = []
    client = client_for(api_key_make(tenant))
    space, (document,), (run,) = space_filled(tenant, name="Parity", documents=1, queries=1, citations=1)
    client.patch(f"/api/v1/spaces/{space.id}", {"tags": ["a"], "metadata": {"k": [1, {"x": None}]}}, format="json")
    endpoint, _ = endpoint_create(tenant=tenant, actor="test", url="https://hooks.example.com/p",
                                  event_types=["space.*"], space_ids=[space.id])
    data = gql_data(client, f"""query($space: UUID!, $document: UUID!, $run: UUID!, $webhook: UUID!) {{
        space(id: $space) {{ {SPACE} }} document(id: $document) {{ {DOCUMENT} }}
        queryRun(id: $run) {{ {QUERY_RUN} }} webhook(id: $webhook) {{ {WEBHOOK} }}
        events(first: 5) {{ edges {{ node {{ {EVENT} }} }} }} }}""",
                    {"space": space.id, "document": document.id, "run": run.id, "webhook": endpoint.id})
    rest = {
        "space": client.get(f"/api/v1/spaces/{space.id}").json(),
        "document": client.get(f"/api/v1/documents/{document.id}").json(),
        "queryRun": client.get(f"/api/v1/queries/{run.id}").json(),
        "webhook": client.get(f"/api/v1/webhooks/{endpoint.id}").json(),
        "events": client.get("/api/v1/events", {"limit": 5}).json()["items"],
    }
    for name in ("space", "document", "queryRun", "webhook"):
        assert _snake(data[name]) == rest[name], name
    assert [_snake(edge["node"]) for edge in data["events"]["edges"]] == rest["events"]
    assert rest["space"]["metadata"] == {"k": [1, {"x": None}]}  # the comparison saw real data
    assert rest["queryRun"]["result"]["citations"][0]["document_id"] == document.id
