"""Tenants are walls in GraphQL too: another tenant's ids resolve to null with not_found, its
lists are empty, and every mutation on its ids is a not_found user error; on both stores."""

import pytest

from tests.factories import api_key_make, client_for, tenant_make
from tests.graphql.data import space_filled
from tests.graphql.helpers import gql, gql_data
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db
ERRORS = "errors { field code message }"


@pytest.fixture
def theirs(deployment, settings):
    """Another tenant's space (with a document and an answered query) and webhook endpoint."""
    settings.WEBHOOK_ALLOWED_TARGETS = []
    owner = tenant_make()
    space, (document,), (run,) = space_filled(owner, name="Theirs", documents=1, queries=1, citations=1)
    endpoint, _ = endpoint_create(tenant=owner, actor="test", url="https://hooks.example.com/theirs",
                                  event_types=["*"])
    return {"space": space.id, "document": document.id, "run": run.id, "webhook": endpoint.id}


@pytest.fixture
def stranger():
    return client_for(api_key_make(tenant_make()))


@pytest.mark.parametrize(("field", "key"), [
    ("space(id: $id) { id name }", "space"),
    ("document(id: $id) { id filename }", "document"),
    ("queryRun(id: $id) { id question }", "run"),
    ("webhook(id: $id) { id url }", "webhook"),
])
def test_another_tenants_object_is_null_with_not_found(theirs, stranger, field, key):
    body = gql(stranger, f"query($id: UUID!) {{ {field} }}", {"id": theirs[key]})
    assert list(body["data"].values()) == [None]
    assert [e["extensions"]["code"] for e in body["errors"]] == ["not_found"]


@pytest.mark.parametrize("field", [
    "documents(spaceId: $id) { edges { node { id } } }",
    "queryRuns(spaceId: $id) { edges { node { id } } }",
])
def test_another_tenants_space_lists_nothing(theirs, stranger, field):
    body = gql(stranger, f"query($id: UUID!) {{ {field} }}", {"id": theirs["space"]})
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["not_found"]


def test_lists_show_only_ones_own(theirs, stranger):
    data = gql_data(stranger, "{ spaces { edges { node { id } } } webhooks { edges { node { id } } } "
                              "events(first: 100) { edges { node { id } } } }")
    assert data == {"spaces": {"edges": []}, "webhooks": {"edges": []}, "events": {"edges": []}}


@pytest.mark.parametrize(("mutation", "key"), [
    ('updateSpace(id: $id, input: {name: "Mine"}) { space { id } ' + ERRORS + " }", "space"),
    ("deleteSpace(id: $id) { deletedId " + ERRORS + " }", "space"),
    ("deleteDocument(id: $id) { deletedId " + ERRORS + " }", "document"),
    ('submitQuery(input: {spaceId: $id, question: "Q?"}) { queryRun { id } ' + ERRORS + " }", "space"),
    ("cancelQuery(id: $id) { queryRun { id } " + ERRORS + " }", "run"),
    ("updateWebhook(id: $id, input: {active: false}) { webhook { id } " + ERRORS + " }", "webhook"),
    ("deleteWebhook(id: $id) { deletedId " + ERRORS + " }", "webhook"),
    ("rotateWebhookSecret(id: $id) { webhook { id } secret " + ERRORS + " }", "webhook"),
    ("testWebhook(id: $id) { deliveryId " + ERRORS + " }", "webhook"),
])
def test_mutations_on_another_tenants_ids_are_not_found(theirs, stranger, mutation, key):
    (payload,) = gql_data(stranger, f"mutation($id: UUID!) {{ {mutation} }}", {"id": theirs[key]}).values()
    assert [e["code"] for e in payload["errors"]] == ["not_found"]
    assert not any(value for name, value in payload.items() if name != "errors")
