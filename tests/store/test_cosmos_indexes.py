"""What only the Cosmos backend has to do for ContainerSpec.indexes: the composite index in the
container's indexing policy, the query rendered so that real Cosmos DB serves it from that index
(the ORDER BY starts with the equality-filtered fields), and a changed index set applied in place.

The emulator answers queries by scanning, so these check what real Cosmos needs to see rather
than timings."""

import uuid

import pytest

from evaapi.store import Query, batch_create
from evaapi.store import query as q
from evaapi.store.registry import ContainerSpec, Index
from tests.store.conftest import store_build

NEWEST = (("created_at", "desc"),)
BY_STATUS = Index(equality=("status",), order=NEWEST)


@pytest.fixture(scope="module")
def store():
    return store_build("cosmos", f"indexes-{uuid.uuid4().hex[:8]}")


def declare(name: str, *indexes: Index) -> ContainerSpec:
    return ContainerSpec(
        name=name, partition_key="/tenant", filter_fields=("status",), orderings=(NEWEST,), indexes=indexes
    )


def composites(store, name: str) -> list:
    return store.database.get_container_client(name).read()["indexingPolicy"]["compositeIndexes"]


def test_the_indexing_policy_holds_a_composite_index_per_declared_index(store):
    spec = declare(f"c{uuid.uuid4().hex[:12]}", BY_STATUS)
    store.init([spec])
    assert composites(store, spec.name) == [
        [{"path": "/created_at", "order": "descending"}, {"path": "/id", "order": "ascending"}],
        [
            {"path": "/status", "order": "ascending"},
            {"path": "/created_at", "order": "descending"},
            {"path": "/id", "order": "ascending"},
        ],
    ]


def test_the_order_by_starts_with_the_equality_fields_in_the_index_order(store):
    spec = declare(f"c{uuid.uuid4().hex[:12]}", BY_STATUS)
    store.init([spec])
    container = store.container(spec)
    filters = (q.eq("status", "open"),)

    sql, params = container.rendered(Query(filters=filters, order_by=NEWEST, limit=20), partition_key="t")
    assert sql == (
        'SELECT TOP @p2 * FROM c WHERE c["tenant"] = @p0 AND c["status"] = @p1 '
        'ORDER BY c["status"] ASC, c["created_at"] DESC, c["id"] ASC'
    )
    assert [p["value"] for p in params] == ["t", "open", 21]

    # The reverse order reads the same index backwards: every direction flips, the status's too.
    sql, _ = container.rendered(Query(filters=filters, order_by=(("created_at", "asc"),)), partition_key="t")
    assert sql.endswith('ORDER BY c["status"] DESC, c["created_at"] ASC, c["id"] DESC')

    # Without the equality filter the declared ordering's own composite index serves.
    sql, _ = container.rendered(Query(filters=(q.in_("status", ["open"]),), order_by=NEWEST), partition_key="t")
    assert sql.endswith('ORDER BY c["created_at"] DESC, c["id"] ASC')


def test_a_continuation_is_over_the_ordering_with_a_range_on_its_first_field(store):
    spec = declare(f"c{uuid.uuid4().hex[:12]}", BY_STATUS)
    store.init([spec])
    container = store.container(spec)
    container.batch(
        [batch_create({"id": f"d{n}", "tenant": "t", "status": "open", "created_at": f"2026-01-0{1 + n % 3}"})
         for n in range(6)],
        partition_key="t",
    )
    query = Query(filters=(q.eq("status", "open"),), order_by=NEWEST, limit=2)
    token = container.query(query, partition_key="t").continuation
    sql, params = container.rendered(Query(query.filters, NEWEST, 2, token), partition_key="t")
    # The last item was d5 (2026-01-03): the token holds created_at and id, not the status.
    assert sql == (
        'SELECT TOP @p6 * FROM c WHERE c["tenant"] = @p0 AND c["status"] = @p1 AND (c["created_at"] <= @p5 AND '
        '((c["created_at"] < @p2) OR (c["created_at"] = @p3 AND c["id"] > @p4))) '
        'ORDER BY c["status"] ASC, c["created_at"] DESC, c["id"] ASC'
    )
    assert [p["value"] for p in params] == ["t", "open", "2026-01-03", "2026-01-03", "d5", "2026-01-03", 3]


def test_init_replaces_a_changed_index_set_in_place(store):
    name = f"c{uuid.uuid4().hex[:12]}"
    store.init([declare(name)])
    store.container(declare(name)).create({"id": "a", "tenant": "t", "status": "open", "created_at": "2026-01-01"})
    assert len(composites(store, name)) == 1

    assert [r.outcome for r in store.init([declare(name, BY_STATUS)])] == ["exists"]
    assert len(composites(store, name)) == 2
    assert store.container(declare(name, BY_STATUS)).read("a", partition_key="t")["status"] == "open"

    store.init([declare(name)])
    assert len(composites(store, name)) == 1
    assert store.container(declare(name)).count(partition_key="t") == 1
