"""/graphql's limits as execution sees the operation: the cost with variables as coerced, the
rate limit counted per mutation, null for an argument with a default, the body's `variables`,
metadata nesting, and `forbidden` answers counted against the client address's limit."""

import json
import uuid

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType, GraphQLSchema, Undefined

from evaapi.graphql.schema import schema
from tests.factories import api_key_make, client_for, tenant_make
from tests.graphql.data import space_filled
from tests.graphql.helpers import gql_data

pytestmark = pytest.mark.django_db
ERRORS = "errors { field code message }"
COSTLY = ("spaces(first: $n) { edges { node { documents(first: 20) { edges { node { filename } } } } } }")


@pytest.fixture
def client(tenant):
    return client_for(api_key_make(tenant))


def _post(client, body, **extra):
    return client.generic("POST", "/graphql", body if isinstance(body, str) else json.dumps(body),
                          content_type="application/json", **extra)


def _address() -> str:
    return f"10.45.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def _space_names(client) -> list[str]:
    return [e["node"]["name"] for e in gql_data(client, "{ spaces(first: 100) { edges { node { name } } } }")
            ["spaces"]["edges"]]


# --- the cost limit reads variables as execution does ----------------------------------------------
@pytest.mark.parametrize(("query", "variables"), [
    (f"query($n: Int) {{ {COSTLY} }}", {"n": 50.0}),  # graphql-core coerces 50.0 to the Int 50
    (f"query($n: Int = 50) {{ {COSTLY} }}", None),  # the variable's default
    (f"query($n: Int! = 50) {{ {COSTLY} }}", {}),
    ("{ spaces(first: 50) { edges { node { documents(first: null) { edges { node { filename } } } } } } }", None),
])
def test_the_cost_counts_first_as_execution_will_read_it(client, query, variables):
    response = _post(client, {"query": query, **({"variables": variables} if variables is not None else {})})
    assert response.status_code == 400, response.content
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "query_too_costly", "cost": 2151, "limit": 1000}


# --- null for an argument with a default ------------------------------------------------------------
IDS = "edges { node { id } }"
NULL_DEFAULTS = {
    ("Query", "spaces", "first"): "{ spaces(first: null) { edges { node { name } } } }",
    ("Query", "spaces", "sort"): "{ spaces(sort: null) { edges { node { name } } } }",
    ("Query", "documents", "first"): f"query($s: UUID!) {{ documents(spaceId: $s, first: null) {{ {IDS} }} }}",
    ("Query", "queryRuns", "first"): f"query($s: UUID!) {{ queryRuns(spaceId: $s, first: null) {{ {IDS} }} }}",
    ("Query", "webhooks", "first"): f"{{ webhooks(first: null) {{ {IDS} }} }}",
    ("Query", "events", "first"): "{ events(first: null) { edges { node { type } } } }",
    ("Space", "documents", "first"): f"{{ spaces {{ edges {{ node {{ documents(first: null) {{ {IDS} }} }} }} }} }}",
    ("Space", "queryRuns", "first"): f"{{ spaces {{ edges {{ node {{ queryRuns(first: null) {{ {IDS} }} }} }} }} }}",
    ("WebhookEndpoint", "deliveries", "first"):
        f"{{ webhooks {{ edges {{ node {{ deliveries(first: null) {{ {IDS} }} }} }} }} }}",
}


def _defaulted_arguments(graphql_schema: GraphQLSchema) -> set[tuple]:
    """Every argument and input field with a default, introspection's own left out."""
    found = set()
    for type_name, graphql_type in graphql_schema.type_map.items():
        if type_name.startswith("__"):
            continue
        if isinstance(graphql_type, GraphQLObjectType):
            found |= {(type_name, field_name, argument_name)
                      for field_name, field in graphql_type.fields.items()
                      for argument_name, argument in field.args.items() if argument.default_value is not Undefined}
        elif isinstance(graphql_type, GraphQLInputObjectType):
            found |= {(type_name, field_name) for field_name, field in graphql_type.fields.items()
                      if field.default_value is not Undefined}
    return found


def test_every_argument_with_a_default_is_covered_below():
    assert _defaulted_arguments(schema.graphql_schema) == set(NULL_DEFAULTS)


def test_null_for_an_argument_with_a_default_is_that_default(tenant, client, settings):
    settings.WEBHOOK_ALLOWED_TARGETS = []
    space, _, _ = space_filled(tenant, name="Nulls", documents=2, queries=1)
    webhook = gql_data(client, 'mutation { createWebhook(input: {url: "https://hooks.example.com/n", eventTypes: '
                               f'["*"]}}) {{ webhook {{ id }} {ERRORS} }} }}')["createWebhook"]["webhook"]["id"]
    gql_data(client, f'mutation($id: UUID!) {{ testWebhook(id: $id) {{ deliveryId {ERRORS} }} }}', {"id": webhook})
    for key, query in NULL_DEFAULTS.items():
        without = query.replace(", first: null", "").replace("(first: null)", "").replace("(sort: null)", "")
        assert without != query, key
        assert gql_data(client, query, {"s": space.id} if "$s" in query else None) == gql_data(
            client, without, {"s": space.id} if "$s" in query else None), key
    # And through a variable set to null.
    query = "query($n: Int) { spaces(first: $n) { edges { node { name } } } }"
    assert gql_data(client, query, {"n": None})["spaces"]["edges"] == [{"node": {"name": "Nulls"}}]


# --- the body's variables ----------------------------------------------------------------------------
@pytest.mark.parametrize("variables", ["0", "false", '""'])
def test_variables_that_are_not_an_object_or_null_are_400(client, variables):
    query = '"query": "{ spaces { edges { node { id } } } }"'
    response = _post(client, f'{{{query}, "variables": {variables}}}')
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["extensions"]["code"] == "bad_request"
    response = _post(client, f'{{{query}, "operationName": {variables}}}')
    assert response.status_code == 400, response.content
    assert _post(client, f'{{{query}, "variables": null, "operationName": null}}').status_code == 200


# --- metadata nesting ----------------------------------------------------------------------------------
def test_metadata_nesting_is_limited_to_32_levels(client):
    def create(name: str, depth: int) -> dict:
        metadata = "{a: " * depth + "1" + "}" * depth
        return gql_data(client, f'mutation {{ createSpace(input: {{name: "{name}", metadata: {metadata}}}) '
                                f"{{ space {{ id }} {ERRORS} }} }}")["createSpace"]

    assert create("Deep enough", 32)["errors"] == []
    refused = create("Too deep", 33)
    assert refused["space"] is None
    assert refused["errors"] == [{"field": "metadata", "code": "validation_error",
                                  "message": "Nests deeper than 32 levels."}]
    assert _space_names(client) == ["Deep enough"]


# --- the rate limit counts each mutation -----------------------------------------------------------
def _creates(count: int, prefix: str) -> str:
    fields = " ".join(f'm{n}: createSpace(input: {{name: "{prefix} {n}"}}) {{ space {{ id }} }}' for n in range(count))
    return f"mutation {{ {fields} }}"


def test_each_root_mutation_counts_as_one_request(settings):
    # 6 a minute: no request refills while the test runs.
    settings.RATE_LIMIT_TIERS = "free=6/10,basic=600/50,pro=6000/200,enterprise=unlimited"
    client = client_for(api_key_make(tenant_make(tier="free")))
    three = _post(client, {"query": _creates(3, "Three")})
    assert three.status_code == 200
    assert (three["X-RateLimit-Limit"], three["X-RateLimit-Remaining"]) == ("6", "7")
    # Eight more do not fit in the seven left: refused whole, nothing created.
    eight = _post(client, {"query": _creates(8, "Eight")})
    assert eight.status_code == 429, eight.content
    assert eight.json()["errors"][0]["extensions"]["code"] == "rate_limited"
    assert int(eight["Retry-After"]) >= 1
    assert eight["X-RateLimit-Remaining"] == "7"
    # More than the bucket ever holds at once: refused without waiting, and without counting.
    many = _post(client, {"query": _creates(250, "Many")})
    assert many.status_code == 400
    (error,) = many.json()["errors"]
    assert error["extensions"] == {"code": "too_many_mutations", "mutations": 250, "limit": 10}
    # Aliases of one field count apart; __typename and skipped fields do not count.
    four = _post(client, {"query": "mutation($no: Boolean!) { __typename a: createSpace(input: {name: \"A\"}) "
                                   "{ space { id } } b: createSpace(input: {name: \"B\"}) { space { id } } "
                                   "c: createSpace(input: {name: \"C\"}) @skip(if: $no) { space { id } } }",
                          "variables": {"no": True}})
    assert (four.status_code, four["X-RateLimit-Remaining"]) == (200, "5")
    assert sorted(_space_names(client)) == ["A", "B", "Three 0", "Three 1", "Three 2"]


# --- forbidden answers count against the client address's limit ------------------------------------
def test_an_answer_with_forbidden_errors_counts_once_as_a_rest_403_does(tenant, settings):
    settings.RATE_LIMIT_UNAUTHENTICATED = "1/3"
    address = _address()
    reader = client_for(api_key_make(tenant, scopes=["spaces:read"]))
    # Malformed bodies are not counted (REST counts only 401 and 403), nor answers without forbidden.
    for _ in range(5):
        assert _post(reader, "{not json", REMOTE_ADDR=address).status_code == 400
        assert _post(reader, {"query": "{ spaces { edges { node { id } } } }"}, REMOTE_ADDR=address).status_code == 200
    # Two forbidden errors in one answer count once: three answers, then the limit is passed.
    probe = {"query": "query($id: UUID!) { webhook(id: $id) { url } queryRun(id: $id) { question } }",
             "variables": {"id": str(uuid.uuid4())}}
    answers = [_post(reader, probe, REMOTE_ADDR=address) for _ in range(4)]
    for answer in answers:
        assert answer.status_code == 200
        assert [e["extensions"]["code"] for e in answer.json()["errors"]] == ["forbidden", "forbidden"]
    refused = _post(reader, {"query": "{ spaces { edges { node { id } } } }"}, REMOTE_ADDR=address)
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "rate_limited"
    assert _post(reader, {"query": "{ spaces { edges { node { id } } } }"}, REMOTE_ADDR=_address()).status_code == 200
