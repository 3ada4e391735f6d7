"""Calling /graphql from tests."""

import json


def gql(client, query: str, variables: dict | None = None, *, status: int = 200) -> dict:
    """POSTs the operation; asserts the HTTP status; the response body."""
    response = client.post("/graphql", data=json.dumps({"query": query, "variables": variables or {}}),
                           content_type="application/json")
    assert response.status_code == status, response.content
    return response.json()


def gql_data(client, query: str, variables: dict | None = None) -> dict:
    """The operation's data, asserting it ran without errors."""
    body = gql(client, query, variables)
    assert "errors" not in body, body["errors"]
    return body["data"]
