"""Endpoint rules both APIs share (REST and GraphQL call the same services): the spaces an
endpoint is limited to are the tenant's own, and a secret rotation never cuts a running grace
period short unless it asks to (grace 0, for a leaked secret)."""

import uuid

import pytest

from evaapi.times import iso, parse_iso, utc_now
from spaces.services import space_create
from tests.factories import api_key_make, client_for, tenant_make
from tests.graphql.helpers import gql_data
from tests.webhooks.attempts import claim_one
from webhooks.signing import SignatureInvalid, signature_verify

pytestmark = pytest.mark.django_db
ERRORS = "errors { field code message }"
CREATE = ("mutation($input: CreateWebhookInput!) { createWebhook(input: $input) "
          f"{{ webhook {{ id spaceIds }} secret {ERRORS} }} }}")
UPDATE = ("mutation($id: UUID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) "
          f"{{ webhook {{ spaceIds }} {ERRORS} }} }}")
ROTATE = ("mutation($id: UUID!, $hours: Float) { rotateWebhookSecret(id: $id, graceHours: $hours) "
          f"{{ webhook {{ previousSecretExpiresAt }} secret {ERRORS} }} }}")


def _create(client, **fields):
    return client.post("/api/v1/webhooks", {"url": "https://hooks.example.com/eva", "event_types": ["*"], **fields},
                       format="json")


def _signing_secrets(client, webhook_id: str, candidates: list[str]) -> set[str]:
    """Which of `candidates` sign the endpoint's next delivery (a test event, claimed as the
    worker claims it)."""
    delivery_id = client.post(f"/api/v1/webhooks/{webhook_id}/test").json()["delivery_id"]
    claimed = claim_one(webhook_id=webhook_id, delivery_id=delivery_id)
    signing = set()
    for secret in candidates:
        try:
            signature_verify(secret=secret, headers=claimed.headers, body=claimed.body)
        except SignatureInvalid:
            continue
        signing.add(secret)
    return signing


def test_a_rotation_while_a_grace_period_runs_is_refused_unless_it_ends_it(admin_client):
    created = _create(admin_client).json()
    rotate = f"/api/v1/webhooks/{created['id']}/rotate-secret"
    second = admin_client.post(rotate, {"grace_hours": 24}, format="json").json()
    grace_end = second["previous_secret_expires_at"]
    for body in ({"grace_hours": 24}, {"grace_hours": 1}, {}):
        refused = admin_client.post(rotate, body, format="json")
        assert refused.status_code == 409, body
        error = refused.json()["error"]
        assert (error["code"], error["details"]) == ("conflict", {"previous_secret_expires_at": grace_end})
        assert grace_end in error["message"]
        assert "grace_hours 0" in error["message"]
    # Nothing changed: the first secret still signs, beside the second, for its whole grace.
    assert _signing_secrets(admin_client, created["id"], [created["secret"], second["secret"]]) == {
        created["secret"], second["secret"]}

    # An emergency (a leaked secret): grace 0 is allowed at any time, and ends every earlier secret.
    third = admin_client.post(rotate, {"grace_hours": 0}, format="json")
    assert third.status_code == 200
    assert parse_iso(third.json()["previous_secret_expires_at"]) <= utc_now()
    everyone = [created["secret"], second["secret"], third.json()["secret"]]
    assert _signing_secrets(admin_client, created["id"], everyone) == {third.json()["secret"]}
    # No grace runs now: the next rotation may have one.
    assert admin_client.post(rotate, {"grace_hours": 24}, format="json").status_code == 200


def test_rotate_webhook_secret_refuses_the_same_way_in_graphql(admin_client):
    webhook_id = _create(admin_client).json()["id"]
    first = gql_data(admin_client, ROTATE, {"id": webhook_id, "hours": 2})["rotateWebhookSecret"]
    assert first["errors"] == []
    grace_end = first["webhook"]["previousSecretExpiresAt"]
    refused = gql_data(admin_client, ROTATE, {"id": webhook_id, "hours": 2})["rotateWebhookSecret"]
    assert (refused["secret"], refused["webhook"]) == (None, None)
    (error,) = refused["errors"]
    assert (error["field"], error["code"]) == (None, "conflict")
    assert iso(parse_iso(grace_end)) in error["message"]
    assert "grace_hours 0" in error["message"]
    assert gql_data(admin_client, ROTATE, {"id": webhook_id, "hours": 0})["rotateWebhookSecret"]["errors"] == []


def test_an_endpoint_is_limited_only_to_spaces_of_its_own_tenant(tenant, admin_client):
    own = space_create(tenant=tenant, actor="test", name="Ours").id
    theirs = space_create(tenant=tenant_make(), actor="test", name="Theirs").id
    missing = str(uuid.uuid4())
    for space_ids in ([theirs], [own, missing]):
        refused = _create(admin_client, space_ids=space_ids)
        assert refused.status_code == 400
        error = refused.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"] == {"space_ids": [f"No such space: {space_ids[-1]}."]}
    created = _create(admin_client, space_ids=[own, own])
    assert created.status_code == 201
    assert created.json()["space_ids"] == [own]
    detail = f"/api/v1/webhooks/{created.json()['id']}"
    patched = admin_client.patch(detail, {"space_ids": [own, theirs]}, format="json")
    assert (patched.status_code, list(patched.json()["error"]["details"])) == (400, ["space_ids"])
    assert admin_client.get(detail).json()["space_ids"] == [own]
    assert admin_client.patch(detail, {"space_ids": None}, format="json").json()["space_ids"] is None


def test_graphql_refuses_another_tenants_spaces_with_a_user_error(tenant):
    client = client_for(api_key_make(tenant))
    own = space_create(tenant=tenant, actor="test", name="Ours").id
    theirs = space_create(tenant=tenant_make(), actor="test", name="Theirs").id
    endpoint = {"url": "https://hooks.example.com/eva", "eventTypes": ["*"]}
    refused = gql_data(client, CREATE, {"input": {**endpoint, "spaceIds": [theirs]}})["createWebhook"]
    assert refused["webhook"] is None
    assert [(e["field"], e["code"], e["message"]) for e in refused["errors"]] == [
        ("spaceIds", "validation_error", f"No such space: {theirs}.")]
    created = gql_data(client, CREATE, {"input": {**endpoint, "spaceIds": [own]}})["createWebhook"]
    assert (created["errors"], created["webhook"]["spaceIds"]) == ([], [own])
    update = gql_data(client, UPDATE, {"id": created["webhook"]["id"], "input": {"spaceIds": [theirs]}})
    assert [(e["field"], e["code"]) for e in update["updateWebhook"]["errors"]] == [("spaceIds", "validation_error")]
