"""N+1 is gone: the nested query of issue 12 costs the same store calls for 1 space as for 50,
each space with 20 documents and 5 answered queries citing them. The number is written here;
on drift, the failure lists every call."""

import pytest

from evaapi.store.metrics import count_store_calls
from tests.factories import api_key_make, client_for, tenant_make
from tests.graphql.data import space_filled
from tests.graphql.helpers import gql_data

pytestmark = pytest.mark.django_db

NESTED = """
query Nested($spaces: Int!) {
  spaces(first: $spaces) { edges { node {
    name
    documents(first: 20) { edges { node { filename space { name } } } pageInfo { hasNextPage } }
    queryRuns(first: 5) { edges { node { question result { citations { document { filename } } } } } }
  } } }
}
"""

# Authentication (the API key's read and the tenant's), then one call per level: the spaces'
# page, the documents of every space listed, their queries, the documents the queries cite.
# Each document's `space` comes from the spaces already listed: no call. A loader takes 100 keys
# a call (max_batch_size): the answers of each space cite the same two of its documents, 100
# distinct documents for 50 spaces, one call; test_cited_documents_load_100_a_call shows 101.
EXPECTED_CALLS = [
    "read api_keys", "read tenants", "query spaces", "query documents", "query queries", "query documents",
]


@pytest.fixture
def tenant_with_spaces(deployment, settings):
    settings.GRAPHQL_MAX_COST = 20_000  # this report's cost: see test_limits
    tenant = tenant_make()
    spaces = [space_filled(tenant, name=f"space {n:02}", documents=20, queries=5) for n in range(50)]
    return tenant, spaces


def _nested(client, count: int) -> tuple[dict, list[str]]:
    with count_store_calls() as calls:
        data = gql_data(client, NESTED, {"spaces": count})
    return data, calls.log


def test_the_nested_report_costs_the_same_store_calls_for_1_space_and_for_50(tenant_with_spaces):
    tenant, spaces = tenant_with_spaces
    client = client_for(api_key_make(tenant))
    gql_data(client, "{ spaces(first: 1) { edges { node { id } } } }")  # the key's first use records it
    one, one_calls = _nested(client, 1)
    fifty, fifty_calls = _nested(client, 50)
    assert one_calls == EXPECTED_CALLS, "1 space:\n" + "\n".join(one_calls)
    assert fifty_calls == EXPECTED_CALLS, "50 spaces:\n" + "\n".join(fifty_calls)
    # And the data is all there: 50 spaces, 20 documents each pointing back, 5 answers each
    # whose citations resolve to the documents cited.
    edges = fifty["spaces"]["edges"]
    assert len(edges) == 50
    assert len(one["spaces"]["edges"]) == 1
    by_name = {space.name: (documents, runs) for space, documents, runs in spaces}
    for edge in edges:
        node = edge["node"]
        documents, runs = by_name[node["name"]]
        assert [e["node"]["filename"] for e in node["documents"]["edges"]] == [
            d.filename for d in reversed(documents)]  # newest first
        assert {e["node"]["space"]["name"] for e in node["documents"]["edges"]} == {node["name"]}
        assert node["documents"]["pageInfo"]["hasNextPage"] is False
        assert [e["node"]["question"] for e in node["queryRuns"]["edges"]] == [r.question for r in reversed(runs)]
        for run_edge, run in zip(node["queryRuns"]["edges"], reversed(runs), strict=True):
            cited = [c["document"]["filename"] for c in run_edge["node"]["result"]["citations"]]
            assert cited == [c["filename"] for c in run.result["citations"]]


def test_a_space_with_more_documents_than_asked_says_so_and_pages_on(tenant_with_spaces):
    tenant, spaces = tenant_with_spaces
    client = client_for(api_key_make(tenant))
    query = """query($after: String) { spaces(first: 1) { edges { node { name
        documents(first: 8, after: $after) { edges { cursor node { filename } } pageInfo { hasNextPage endCursor } }
    } } } }"""
    first = gql_data(client, query)["spaces"]["edges"][0]["node"]
    page = first["documents"]
    assert len(page["edges"]) == 8
    assert page["pageInfo"]["hasNextPage"] is True
    seen = [e["node"]["filename"] for e in page["edges"]]
    while page["pageInfo"]["hasNextPage"]:
        node = gql_data(client, query, {"after": page["pageInfo"]["endCursor"]})["spaces"]["edges"][0]["node"]
        page = node["documents"]
        seen += [e["node"]["filename"] for e in page["edges"]]
    documents = next(d for s, d, _ in spaces if s.name == first["name"])
    assert seen == [d.filename for d in reversed(documents)]
    # An edge's own cursor resumes right after it.
    middle = first["documents"]["edges"][2]["cursor"]
    resumed = gql_data(client, query, {"after": middle})["spaces"]["edges"][0]["node"]["documents"]["edges"]
    assert resumed[0]["node"]["filename"] == seen[3]


def test_cited_documents_load_100_a_call(deployment):
    """The loaders' batches hold 100 keys: an answer citing 101 documents reads them in 2 calls."""
    tenant = tenant_make()
    client = client_for(api_key_make(tenant))
    _, documents, (run,) = space_filled(tenant, name="wide", documents=101, queries=1, citations=101)
    query = "query($id: UUID!) { queryRun(id: $id) { result { citations { document { filename } } } } }"
    gql_data(client, query, {"id": run.id})
    with count_store_calls() as calls:
        data = gql_data(client, query, {"id": run.id})
    assert calls.log == ["read api_keys", "read tenants", "query queries", "query documents", "query documents"], (
        calls.log)
    assert [c["document"]["filename"] for c in data["queryRun"]["result"]["citations"]] == [
        d.filename for d in documents]


def test_a_cancelled_request_leaves_its_execution_to_finish(deployment, settings):
    """A request cancelled (its client gone) at any point of the report: its wait ends at once,
    and the execution runs to its end: every coroutine it made is awaited (a RuntimeWarning each
    when collected, otherwise), no error is left unread in a task (a batch filling a cancelled
    future raised InvalidStateError), every loader future is filled."""
    import asyncio
    import gc
    import warnings

    from evaapi.auth.services.principals import principal_for
    from evaapi.graphql.context import GraphQLContext
    from evaapi.graphql.execution import operation_execute, operation_prepare

    settings.GRAPHQL_MAX_COST = 20_000
    tenant = tenant_make()
    for n in range(3):
        space_filled(tenant, name=f"space {n}", documents=3, queries=2)
    principal = principal_for(credentials=api_key_make(tenant))
    operation = operation_prepare(NESTED, {"spaces": 3}, None)

    async def cancelled_after(steps: int):
        loop = asyncio.get_running_loop()
        unread = []
        loop.set_exception_handler(lambda _, details: unread.append(details))
        context = GraphQLContext(principal=principal)
        waiting = asyncio.ensure_future(operation_execute(operation, context))
        for _ in range(steps):
            await asyncio.sleep(0)
        waiting.cancel()
        while len(asyncio.all_tasks()) > 1:  # the execution and its loaders' batches, left to finish
            await asyncio.sleep(0.005)
        gc.collect()  # unawaited coroutines and unread task errors are reported when collected
        await asyncio.sleep(0)
        return waiting, unread, context

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, _, whole = asyncio.run(cancelled_after(10_000))  # not cancelled: done before
        cancelled = 0
        for steps in range(40):
            waiting, unread, context = asyncio.run(cancelled_after(steps))
            gc.collect()
            assert unread == [], steps
            cancelled += waiting.cancelled()
            # Cancelled before its first step, the request ran nothing; otherwise all of the report.
            assert set(context._caches) in ({}.keys(), whole._caches.keys()), steps
            futures = [future for cache in context._caches.values() for future in cache.values()]
            assert all(future.done() and not future.cancelled() for future in futures), steps
    assert cancelled >= 20  # the points it was cancelled at were inside the report
    assert [str(warning.message) for warning in caught] == []
