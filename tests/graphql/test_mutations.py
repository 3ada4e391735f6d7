"""Every mutation: its happy path, its user errors (field, code, message) and its audit entry."""

import pytest

from evaapi.auth.selectors import audit_log_list
from tests.factories import api_key_make, client_for
from tests.graphql.data import space_filled
from tests.graphql.helpers import gql, gql_data

pytestmark = pytest.mark.django_db
ERRORS = "errors { field code message }"
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def client(tenant):
    return client_for(api_key_make(tenant))


def _audited(tenant, action: str) -> list[str]:
    entries, _ = audit_log_list(tenant=tenant, filters={"action": action}, limit=10, continuation=None)
    return [entry.resource_id for entry in entries]


def _create_space(client, name: str, extra: str = "") -> dict:
    return gql_data(client, f'mutation {{ createSpace(input: {{name: "{name}"{extra}}}) '
                            f"{{ space {{ id name tags metadata documentCount }} {ERRORS} }} }}")["createSpace"]


def test_create_update_and_delete_a_space(tenant, client):
    created = _create_space(client, "Reports", ', tags: ["q3", "q3"], metadata: {owner: "ops"}')
    assert created["errors"] == []
    space = created["space"]
    assert (space["name"], space["tags"], space["metadata"], space["documentCount"]) == (
        "Reports", ["q3"], {"owner": "ops"}, 0)
    assert _audited(tenant, "space.create") == [space["id"]]
    updated = gql_data(client, "mutation($id: UUID!) { updateSpace(id: $id, input: {description: \"Q3\"}) "
                               f"{{ space {{ description name }} {ERRORS} }} }}", {"id": space["id"]})["updateSpace"]
    assert updated == {"space": {"description": "Q3", "name": "Reports"}, "errors": []}
    deleted = gql_data(client, f"mutation($id: UUID!) {{ deleteSpace(id: $id) {{ deletedId {ERRORS} }} }}",
                       {"id": space["id"]})["deleteSpace"]
    assert deleted == {"deletedId": space["id"], "errors": []}
    assert _audited(tenant, "space.delete") == [space["id"]]
    assert gql_data(client, "{ spaces { edges { node { id } } } }")["spaces"]["edges"] == []


def test_a_json_literal_is_stored_as_written(client):
    # graphene's generic scalar read an integer past 32 bits, or a variable inside the literal, as null.
    literal = ('{big: 9007199254740991, small: -9007199254740991, f: 1.5e3, s: "x", b: true, n: null, '
               'l: [1, {a: [2]}], v: $v}')
    created = gql_data(client, f'mutation($v: JSON) {{ createSpace(input: {{name: "Literal", metadata: {literal}}}) '
                               f"{{ space {{ metadata }} {ERRORS} }} }}", {"v": {"from": "variables"}})["createSpace"]
    assert created == {"space": {"metadata": {
        "big": 9007199254740991, "small": -9007199254740991, "f": 1500.0, "s": "x", "b": True, "n": None,
        "l": [1, {"a": [2]}], "v": {"from": "variables"}}}, "errors": []}


@pytest.mark.parametrize(("extra", "field", "code"), [
    ("", "name", "conflict"),  # the name is taken (below)
    (', metadata: {big: "' + "x" * 17_000 + '"}', "metadata", "validation_error"),
])
def test_create_space_refusals_are_user_errors(client, extra, field, code):
    _create_space(client, "Taken")
    result = _create_space(client, "Taken" if code == "conflict" else "Other", extra)
    assert result["space"] is None
    assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, code)]


def test_input_is_checked_by_the_same_rules_as_rest(client):
    result = _create_space(client, "")
    assert result["errors"] == [{"field": "name", "code": "invalid", "message": "This field may not be blank."}]
    long_tags = ", tags: [" + ", ".join(f'"t{n}"' for n in range(21)) + "]"
    assert _create_space(client, "Tags", long_tags)["errors"][0]["field"] == "tags"
    space = _create_space(client, "Fine")["space"]
    update = f"mutation($id: UUID!, $input: UpdateSpaceInput!) {{ updateSpace(id: $id, input: $input) " \
             f"{{ space {{ id }} {ERRORS} }} }}"
    nothing = gql_data(client, update, {"id": space["id"], "input": {}})["updateSpace"]
    assert nothing["space"] is None
    assert nothing["errors"][0]["code"] == "invalid"
    missing = gql_data(client, update, {"id": MISSING, "input": {"name": "x"}})
    assert missing["updateSpace"]["errors"] == [{"field": None, "code": "not_found", "message": "No such space."}]


def test_delete_a_document(tenant, client):
    _, (document,), _ = space_filled(tenant, name="Docs", documents=1, queries=0)
    query = f"mutation($id: UUID!) {{ deleteDocument(id: $id) {{ deletedId {ERRORS} }} }}"
    assert gql_data(client, query, {"id": document.id})["deleteDocument"] == {"deletedId": document.id, "errors": []}
    assert _audited(tenant, "document.delete") == [document.id]
    again = gql_data(client, query, {"id": document.id})["deleteDocument"]
    assert again == {"deletedId": None,
                     "errors": [{"field": None, "code": "not_found", "message": "No such document."}]}


def test_submit_and_cancel_a_query(tenant, client):
    space, _, _ = space_filled(tenant, name="Ask", documents=1, queries=0)
    submit = ("mutation($input: SubmitQueryInput!) { submitQuery(input: $input) "
              f"{{ queryRun {{ id status question parameters {{ topK }} space {{ name }} }} {ERRORS} }} }}")
    submitted = gql_data(client, submit, {"input": {"spaceId": space.id, "question": "Why?",
                                                    "parameters": {"topK": 3}}})["submitQuery"]
    run = submitted["queryRun"]
    assert submitted["errors"] == []
    assert (run["status"], run["question"], run["parameters"]["topK"], run["space"]["name"]) == (
        "PENDING", "Why?", 3, "Ask")
    assert _audited(tenant, "query.submit") == [run["id"]]
    bad = gql_data(client, submit, {"input": {"spaceId": space.id, "question": "", "parameters": {"topK": 99}}})
    assert sorted((e["field"], e["code"]) for e in bad["submitQuery"]["errors"]) == [
        ("parameters.topK", "invalid"), ("question", "invalid")]
    nowhere = gql_data(client, submit, {"input": {"spaceId": MISSING, "question": "Why?"}})["submitQuery"]
    assert nowhere["errors"][0]["code"] == "not_found"
    cancel = f"mutation($id: UUID!) {{ cancelQuery(id: $id) {{ queryRun {{ status }} {ERRORS} }} }}"
    assert gql_data(client, cancel, {"id": run["id"]})["cancelQuery"] == {"queryRun": {"status": "CANCELLED"},
                                                                          "errors": []}
    again = gql_data(client, cancel, {"id": run["id"]})["cancelQuery"]
    assert again["queryRun"] is None
    assert again["errors"][0]["code"] == "conflict"


def test_webhook_mutations(tenant, client, settings):
    settings.WEBHOOK_ALLOWED_TARGETS = []
    create = ("mutation($input: CreateWebhookInput!) { createWebhook(input: $input) "
              f"{{ webhook {{ id url eventTypes active }} secret {ERRORS} }} }}")
    created = gql_data(client, create, {"input": {"url": "https://hooks.example.com/eva",
                                                  "eventTypes": ["space.*", "document.added"]}})["createWebhook"]
    assert created["errors"] == []
    assert created["secret"].startswith("whsec_")
    webhook = created["webhook"]
    assert (webhook["eventTypes"], webhook["active"]) == (["space.*", "document.added"], True)
    assert _audited(tenant, "webhook.create") == [webhook["id"]]
    unknown = gql_data(client, create, {"input": {"url": "https://hooks.example.com/x", "eventTypes": ["nope.*"]}})
    assert [(e["field"], e["code"]) for e in unknown["createWebhook"]["errors"]] == [("eventTypes", "validation_error")]
    private = gql_data(client, create, {"input": {"url": "https://10.0.0.1/x", "eventTypes": ["*"]}})
    assert private["createWebhook"]["errors"][0]["field"] == "url"

    update = (f"mutation($id: UUID!) {{ updateWebhook(id: $id, input: {{active: false, description: \"paused\"}}) "
              f"{{ webhook {{ active description }} {ERRORS} }} }}")
    assert gql_data(client, update, {"id": webhook["id"]})["updateWebhook"] == {
        "webhook": {"active": False, "description": "paused"}, "errors": []}

    rotate = (f"mutation($id: UUID!, $hours: Float) {{ rotateWebhookSecret(id: $id, graceHours: $hours) "
              f"{{ webhook {{ previousSecretExpiresAt }} secret {ERRORS} }} }}")
    rotated = gql_data(client, rotate, {"id": webhook["id"], "hours": 2})["rotateWebhookSecret"]
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created["secret"]
    assert rotated["webhook"]["previousSecretExpiresAt"] is not None
    too_long = gql_data(client, rotate, {"id": webhook["id"], "hours": 500})["rotateWebhookSecret"]
    assert [(e["field"], e["code"]) for e in too_long["errors"]] == [("graceHours", "invalid")]

    test = f"mutation($id: UUID!) {{ testWebhook(id: $id) {{ deliveryId {ERRORS} }} }}"
    paused = gql_data(client, test, {"id": webhook["id"]})["testWebhook"]
    assert paused["deliveryId"] is None
    assert [e["code"] for e in paused["errors"]] == ["conflict"]
    gql_data(client, "mutation($id: UUID!) { updateWebhook(id: $id, input: {active: true}) { errors { code } } }",
             {"id": webhook["id"]})
    delivery_id = gql_data(client, test, {"id": webhook["id"]})["testWebhook"]["deliveryId"]
    assert delivery_id.startswith("msg_")
    listed = gql_data(client, "query($id: UUID!) { webhook(id: $id) { deliveries { edges { node { id eventType "
                              "status attemptCount } } } } webhooks { edges { node { deliveries(status: PENDING) "
                              "{ edges { node { id } } } } } } }", {"id": webhook["id"]})
    assert [e["node"] for e in listed["webhook"]["deliveries"]["edges"]] == [
        {"id": delivery_id, "eventType": "webhook.test", "status": "PENDING", "attemptCount": 0}]
    assert listed["webhooks"]["edges"][0]["node"]["deliveries"]["edges"] == [{"node": {"id": delivery_id}}]

    delete = f"mutation($id: UUID!) {{ deleteWebhook(id: $id) {{ deletedId {ERRORS} }} }}"
    assert gql_data(client, delete, {"id": webhook["id"]})["deleteWebhook"] == {"deletedId": webhook["id"],
                                                                                "errors": []}
    assert gql_data(client, delete, {"id": webhook["id"]})["deleteWebhook"]["errors"][0]["code"] == "not_found"
    assert gql_data(client, test, {"id": webhook["id"]})["testWebhook"]["errors"][0]["code"] == "not_found"


def test_events_by_types_and_families_the_keys_scopes_read(tenant, client):
    space = _create_space(client, "Evented")["space"]
    gql_data(client, "mutation($id: UUID!) { updateSpace(id: $id, input: {description: \"d\"}) { errors { code } } }",
             {"id": space["id"]})
    query = "query($types: [String!]) { events(types: $types) { edges { node { type spaceId } } } }"

    def types(*patterns):
        return [e["node"]["type"] for e in gql_data(client, query, {"types": list(patterns)})["events"]["edges"]]

    assert types("space.created", "space.updated") == ["space.updated", "space.created"]
    assert types("space.*") == ["space.updated", "space.created"]
    assert types("space.updated") == ["space.updated"]
    assert types("space.*", "document.added") == ["space.updated", "space.created"]
    assert gql(client, query, {"types": ["nope.thing"]})["errors"][0]["extensions"]["code"] == "validation_error"
    # Each family takes the scope that reads what it describes (evaapi.events.selectors).
    reader = client_for(api_key_make(tenant, scopes=["spaces:read"]))
    assert [e["node"]["type"] for e in gql_data(reader, query, {"types": None})["events"]["edges"]] == [
        "space.updated", "space.created"]
    for family in ("webhook.*", "document.added"):
        assert gql(reader, query, {"types": [family]})["errors"][0]["extensions"]["code"] == "forbidden"
