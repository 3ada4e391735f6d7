"""/graphql: the HTTP layer (body, credentials, rate limits, GraphiQL), scopes, limits, every
mutation's happy path and errors, audit entries, and REST and GraphQL giving the same data."""

import json
import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from graphql import GraphQLError, print_schema

from evaapi.graphql.errors import error_formatted
from evaapi.graphql.permissions import root_scopes_check
from evaapi.graphql.schema import schema
from tests.factories import api_key_make, client_for, tenant_make
from tests.graphql.data import space_filled
from tests.graphql.helpers import gql, gql_data

pytestmark = pytest.mark.django_db
SDL = Path(__file__).resolve().parents[2] / "evaapi" / "graphql" / "schema.graphql"
ERRORS = "errors { field code message }"


@pytest.fixture
def client(tenant):
    return client_for(api_key_make(tenant))


def _post(client, body, content_type="application/json"):
    return client.generic("POST", "/graphql", body if isinstance(body, str | bytes) else json.dumps(body),
                          content_type=content_type)


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == code, error
    assert "Traceback" not in error["message"]
    return error


# --- the HTTP layer ------------------------------------------------------------------------------
def test_without_credentials_it_is_401_in_graphql_shape():
    response = _post(client_for(), {"query": "{ spaces { edges { node { id } } } }"})
    _error(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    _error(_post(client_for("eva_not_a_key"), {"query": "{ spaces { edges { node { id } } } }"}), 401,
           "unauthenticated")


@pytest.mark.parametrize(("body", "content_type", "status", "code"), [
    ('{"query": "{ spaces { edges { node { id } } } }"}', "text/plain", 415, "unsupported_media_type"),
    ("{not json", "application/json", 400, "bad_request"),
    ("[]", "application/json", 400, "bad_request"),
    ('{"query": 5}', "application/json", 400, "bad_request"),
    ('{"query": "  "}', "application/json", 400, "bad_request"),
    ('{"query": "{ spaces { edges { node { id } } } }", "variables": [1]}', "application/json", 400, "bad_request"),
    ('{"query": "{ spaces { edges { node { id } } } }", "operationName": 3}', "application/json", 400,
     "bad_request"),
    ("[" * 100 + "]" * 100, "application/json", 400, "bad_request"),
    # Numbers json reads beyond JSON's values (NaN, infinity) reached the store, which refused them
    # with an internal error.
    ('{"query": "mutation($m: JSON) { createSpace(input: {name: \\"x\\", metadata: $m}) { space { id } } }", '
     '"variables": {"m": {"x": NaN}}}', "application/json", 400, "bad_request"),
    ('{"query": "mutation($m: JSON) { createSpace(input: {name: \\"x\\", metadata: $m}) { space { id } } }", '
     '"variables": {"m": {"x": [1e999]}}}', "application/json", 400, "bad_request"),
    ('{"query": "mutation { createSpace(input: {name: \\"x\\", metadata: {x: [1e999]}}) { space { id } } }"}',
     "application/json", 400, "graphql_validation_failed"),
    # And strings with a lone surrogate (no UTF-8), in variables and in a literal (the parser's).
    ('{"query": "mutation($m: JSON) { createSpace(input: {name: \\"x\\", metadata: $m}) { space { id } } }", '
     '"variables": {"m": {"x": "\\ud800"}}}', "application/json", 400, "bad_request"),
    ('{"query": "mutation { createSpace(input: {name: \\"x\\", metadata: {x: \\"\\\\ud800\\"}}) { space { id } } }"}',
     "application/json", 400, "graphql_parse_failed"),
    ('{"query": "{ spaces { "}', "application/json", 400, "graphql_parse_failed"),
    ('{"query": "{ nothing }"}', "application/json", 400, "graphql_validation_failed"),
    ('{"query": "query A { spaces { edges { node { id } } } } query B { spaces { edges { node { id } } } }"}',
     "application/json", 400, "bad_request"),
    ('{"query": "subscription { events { id } }"}', "application/json", 400, "bad_request"),
    ('{"query": "query($n: Int!) { spaces(first: $n) { edges { node { id } } } }", "variables": {"n": "x"}}',
     "application/json", 400, "graphql_validation_failed"),
])
def test_bad_requests_are_4xx_with_a_code(client, body, content_type, status, code):
    _error(_post(client, body, content_type), status, code)


def test_an_operation_too_long_to_parse_is_refused(client, settings):
    settings.GRAPHQL_MAX_TOKENS = 50
    query = "{ " + " ".join(f"a{n}: spaces {{ edges {{ node {{ id }} }} }}" for n in range(20)) + " }"
    _error(_post(client, {"query": query}), 400, "graphql_parse_failed")


def test_get_serves_graphiql_to_browsers_from_local_assets_and_nothing_else(client):
    page = client.get("/graphql", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>" not in html
    assert "cdn." not in html
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(assets) == 9
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        b"".join(response.streaming_content if response.streaming else [response.content])
    _error(client.get("/graphql"), 405, "method_not_allowed")
    _error(client.put("/graphql"), 405, "method_not_allowed")


@override_settings(RATE_LIMIT_TIERS="free=6/2,basic=600/50,pro=6000/200,enterprise=unlimited")
def test_rate_limits_count_graphql_requests_as_rest_ones():
    client = client_for(api_key_make(tenant_make(tier="free")))
    query = {"query": "{ spaces { edges { node { id } } } }"}
    first, second, third = (_post(client, query) for _ in range(3))
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first["X-RateLimit-Limit"], second["X-RateLimit-Remaining"]) == ("6", "0")
    _error(third, 429, "rate_limited")
    assert int(third["Retry-After"]) >= 9


# --- scopes, introspection, limits ----------------------------------------------------------------
def test_every_root_field_declares_its_scope_and_one_that_does_not_stops_the_schema():
    root_scopes_check(schema.graphql_schema)  # the real schema passes
    import graphene

    class Query(graphene.ObjectType):
        open_door = graphene.String()

    with pytest.raises(ImproperlyConfigured, match=r"Query\.openDoor declares no scope"):
        root_scopes_check(graphene.Schema(query=Query).graphql_schema)


def test_a_field_needs_its_scope_and_the_rest_of_the_answer_stands(tenant):
    space_filled(tenant, name="Scoped", documents=1, queries=0)
    reader = client_for(api_key_make(tenant, scopes=["spaces:read"]))
    body = gql(reader, "{ spaces { edges { node { name documents { edges { node { id } } } } } } }")
    assert body["data"] == {"spaces": {"edges": [{"node": None}]}}  # documents is non-null: its space goes null
    (error,) = body["errors"]
    assert (error["extensions"]["code"], error["path"][-1]) == ("forbidden", "documents")
    assert gql_data(reader, "{ spaces { edges { node { name } } } }")["spaces"]["edges"][0]["node"]["name"] == "Scoped"
    body = gql(reader, f'mutation {{ createSpace(input: {{name: "No"}}) {{ space {{ id }} {ERRORS} }} }}')
    assert body["errors"][0]["extensions"]["code"] == "forbidden"
    assert body["data"]["createSpace"] is None
    assert [s for s in gql_data(reader, "{ spaces { edges { node { name } } } }")["spaces"]["edges"]] == [
        {"node": {"name": "Scoped"}}]


def test_a_nested_field_of_another_domain_needs_that_domains_scope(tenant):
    """A document's space needs spaces:read, an answer's cited documents documents:read: a key
    holding only the outer scope reads the rest and is refused those."""
    _, (document,), (run,) = space_filled(tenant, name="Walled", documents=1, queries=1, citations=1)
    reader = client_for(api_key_make(tenant, scopes=["documents:read", "queries:execute"]))
    body = gql(reader, "query($d: UUID!, $q: UUID!) { document(id: $d) { filename space { name } } "
                       "queryRun(id: $q) { question space { name } result { citations { filename "
                       "document { id } } } } }", {"d": document.id, "q": run.id})
    assert body["data"]["document"] == {"filename": "doc-0.txt", "space": None}
    assert body["data"]["queryRun"]["space"] is None
    assert body["data"]["queryRun"]["result"]["citations"] == [{"filename": "doc-0.txt",
                                                                "document": {"id": document.id}}]
    assert sorted((tuple(e["path"][-1:]), e["extensions"]["code"]) for e in body["errors"]) == [
        (("space",), "forbidden"), (("space",), "forbidden")]
    body = gql(client_for(api_key_make(tenant, scopes=["queries:execute"])),
               "query($q: UUID!) { queryRun(id: $q) { result { citations { document { id } } } } }", {"q": run.id})
    assert [(e["path"][-1], e["extensions"]["code"]) for e in body["errors"]] == [("document", "forbidden")]


def test_introspection_follows_its_setting(client, settings):
    query = {"query": "{ __schema { queryType { name } } }"}
    settings.GRAPHQL_INTROSPECTION = True
    assert _post(client, query).json()["data"]["__schema"]["queryType"]["name"] == "Query"
    settings.GRAPHQL_INTROSPECTION = False
    response = _post(client, query)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "graphql_validation_failed"
    assert "introspection" in error["message"].lower()


def test_depth_and_cost_are_limited_before_anything_runs(client, settings):
    deep = ("{ spaces { edges { node { documents { edges { node { space { documents { edges { node { space "
            "{ name } } } } } } } } } } } }")
    error = _error(_post(client, {"query": deep}), 400, "query_too_deep")
    assert error["message"] == "The operation is 12 fields deep; the limit is 10."
    settings.GRAPHQL_MAX_DEPTH, settings.GRAPHQL_MAX_COST = 12, 30_000
    assert "data" in _post(client, {"query": deep}).json()
    settings.GRAPHQL_MAX_COST = 1000
    # Cost: 1 + 50 + 50 + 50 * (1 + 20 + 20) = 2,151 objects at most, counted with the variables.
    costly = ("query($n: Int!) { spaces(first: $n) { edges { node { documents(first: 20) { edges { node "
              "{ filename } } } } } } }")
    error = _error(_post(client, {"query": costly, "variables": {"n": 50}}), 400, "query_too_costly")
    assert (error["extensions"]["cost"], error["extensions"]["limit"]) == (2151, 1000)
    assert "data" in _post(client, {"query": costly, "variables": {"n": 20}}).json()  # 1 + 20 + 20 + 20 * 41 = 861
    # Fragments count as if written out; introspection fields are free.
    fragment = ("query { ...F } fragment F on Query { spaces(first: 50) { edges { node { __typename "
                "documents(first: 20) { edges { node { filename } } } } } } }")
    assert _error(_post(client, {"query": fragment}), 400, "query_too_costly")["extensions"]["cost"] == 2151


def test_an_unexpected_error_is_logged_and_shown_without_its_insides(caplog):
    error = GraphQLError("boom", original_error=RuntimeError("secret internals"), path=["spaces"])
    formatted = error_formatted(error)
    assert formatted["extensions"]["code"] == "internal_error"
    assert "secret internals" not in json.dumps(formatted)
    assert "secret internals" in caplog.text


def test_the_committed_sdl_is_current():
    assert SDL.read_text().strip() == print_schema(schema.graphql_schema).strip(), (
        "The schema changed: make manage ARGS='graphql_schema --schema evaapi.graphql.schema.schema "
        "--out evaapi/graphql/schema.graphql'")


def test_literals_nested_past_the_stack_are_400(client):
    nested = "{a: " * 800 + "1" + "}" * 800
    query = f'mutation {{ createSpace(input: {{name: "Deep", metadata: {nested}}}) {{ errors {{ code }} }} }}'
    _error(_post(client, {"query": query}), 400, "graphql_parse_failed")
    assert gql_data(client, "{ spaces { edges { node { name } } } }")["spaces"]["edges"] == []


def test_introspection_cannot_nest_itself_into_a_flood(client):
    flood = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    response = _post(client, {"query": flood})
    assert response.status_code == 400
    assert "Maximum introspection depth exceeded" in [e["message"] for e in response.json()["errors"]]
    # GraphiQL's own introspection query stays within it.
    from graphql import get_introspection_query

    assert "data" in _post(client, {"query": get_introspection_query(descriptions=True)}).json()
