"""docs/graphql.md runs as written: every operation in it is valid against the schema, within
the default limits, and runs without errors (the sh one-liners as well as the ```graphql blocks),
and the figures the page gives for depth and cost are the ones the server computes."""

import re
from pathlib import Path

import pytest
from graphql import get_operation_ast, parse, validate

from evaapi.graphql.limits import operation_measure
from evaapi.graphql.schema import schema
from tests.factories import api_key_make, client_for
from tests.graphql.data import space_filled
from tests.graphql.helpers import gql

pytestmark = pytest.mark.django_db
DOC = (Path(__file__).resolve().parents[2] / "docs" / "graphql.md").read_text()
BLOCKS = re.findall(r"```graphql\n(.*?)```", DOC, re.S)
ONE_LINERS = re.findall(r"^gql '([^']+)'", DOC, re.M)


def test_the_page_has_its_examples():
    assert len(BLOCKS) >= 6
    assert len(ONE_LINERS) >= 4


@pytest.mark.parametrize("operation", BLOCKS + ONE_LINERS)
def test_each_operation_is_valid_and_within_the_default_limits(operation):
    document = parse(operation)
    assert validate(schema.graphql_schema, document) == []
    depth, cost = operation_measure(schema.graphql_schema, document, get_operation_ast(document), {})
    assert depth <= 10
    assert cost <= 1000


def test_each_operation_runs(tenant):
    client = client_for(api_key_make(tenant))
    space, _, (run,) = space_filled(tenant, name="Docs", documents=3, queries=1)
    variables = {"space": space.id, "id": run.id, "after": None}
    for operation in BLOCKS + ONE_LINERS:
        names = set(re.findall(r"\$(\w+):", operation))
        body = gql(client, operation, {name: variables[name] for name in names})
        assert "errors" not in body, (operation, body)
        for payload in body["data"].values():
            if isinstance(payload, dict) and "errors" in payload and "Contracts" not in operation:
                assert payload["errors"] == [], (operation, payload)


def test_the_figures_on_the_page_are_the_servers():
    report = BLOCKS[0]
    depth, cost = operation_measure(schema.graphql_schema, parse(report), get_operation_ast(parse(report)), {})
    assert f"The report above\n  is {depth} deep." in DOC
    assert "1 + 50 + 50 + 50 \u00d7 (1 + 20 + 20) = 2,151" in DOC
    assert cost < 1000
