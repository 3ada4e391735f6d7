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


@pytest.mark.parametrize("wait", ["context.load", "loader.load", "loader.load_many"])
async def test_a_cancelled_request_leaves_its_batch_to_fill_the_loaders_futures(wait):
    """A request cancelled (its client gone) while a batch is on its way: the resolvers' waits
    end, and the batch still fills the loader's futures when it returns, with no error logged
    (filling a cancelled future raised InvalidStateError in the batch's task, never read). By
    each way resolvers wait on a loader."""
    import asyncio
    import gc

    from evaapi.graphql.context import GraphQLContext

    loop = asyncio.get_running_loop()
    unread = []
    loop.set_exception_handler(lambda _, details: unread.append(details))
    context = GraphQLContext(principal=None)
    release = asyncio.Event()

    async def doubled(_, keys):
        await release.wait()
        return [key * 2 for key in keys]

    async def resolver():
        if wait == "context.load":
            return await context.load(doubled, 21)
        if wait == "loader.load":
            return await context.loader(doubled).load(21)
        return await context.loader(doubled).load_many([21])

    waiting = asyncio.ensure_future(resolver())
    await asyncio.sleep(0.01)  # the batch is dispatched and waits
    waiting.cancel()
    await asyncio.sleep(0.01)
    release.set()
    await asyncio.sleep(0.01)
    gc.collect()  # an unread task error is reported when the task is collected
    await asyncio.sleep(0)
    loop.set_exception_handler(None)
    assert waiting.cancelled()
    assert unread == []
    assert context.load(doubled, 21) == 42  # filled, and kept for the rest of the request
