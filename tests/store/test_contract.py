"""The store contract: what both backends must do identically."""

import base64
import json
import multiprocessing
import time
import uuid

import pytest

from evaapi.store import (
    Conflict,
    InvalidQuery,
    NotFound,
    PatchOp,
    PreconditionFailed,
    Query,
    StoreError,
    StoreMismatch,
    TooLarge,
    batch_create,
    batch_delete,
    batch_patch,
    batch_replace,
    patch_incr,
    patch_remove,
    patch_set,
)
from evaapi.store import query as q
from evaapi.store.metrics import count_store_calls
from evaapi.store.registry import ContainerSpec, Index
from tests.store.workers import increment_with_etag_retry

BIG = "x" * (2 * 1024 * 1024)


def item(id_, tenant="t1", **fields):
    return {"id": id_, "tenant": tenant, **fields}


def walk(container, query: Query, partition_key):
    """All pages of a query; returns the items and the number of pages."""
    items, pages, token = [], 0, None
    while True:
        page = container.query(
            Query(query.filters, query.order_by, query.limit, token), partition_key=partition_key
        )
        items += page.items
        pages += 1
        token = page.continuation
        if token is None:
            return items, pages


# --- point operations ---------------------------------------------------------------------------
def test_create_and_read_carry_id_partition_etag_and_time(make_container):
    container = make_container()
    created = container.create(item("a", n=1))
    read = container.read("a", partition_key="t1")
    assert read["id"] == "a"
    assert read["tenant"] == "t1"
    assert read["n"] == 1
    assert read["_etag"] == created["_etag"]
    assert abs(read["_ts"] - time.time()) < 60
    assert set(read) == {"id", "tenant", "n", "_etag", "_ts"}


def test_missing_item_and_wrong_partition_are_not_found(make_container):
    container = make_container()
    container.create(item("a"))
    with pytest.raises(NotFound):
        container.read("missing", partition_key="t1")
    with pytest.raises(NotFound):
        container.read("a", partition_key="t2")


def test_duplicate_id_is_a_conflict_only_within_a_partition(make_container):
    container = make_container()
    container.create(item("a"))
    with pytest.raises(Conflict):
        container.create(item("a"))
    container.create(item("a", tenant="t2"))
    assert container.read("a", partition_key="t2")["tenant"] == "t2"


def test_unique_key_is_enforced_within_a_partition(make_container):
    container = make_container(unique_keys=(("email",),), filter_fields=("email",))
    container.create(item("a", email="x@example.com"))
    with pytest.raises(Conflict):
        container.create(item("b", email="x@example.com"))
    container.create(item("b", tenant="t2", email="x@example.com"))


def test_every_write_changes_the_etag(make_container):
    container = make_container()
    etags = [container.create(item("a", n=0))["_etag"]]
    etags.append(container.upsert(item("a", n=1))["_etag"])
    etags.append(container.replace(item("a", n=2))["_etag"])
    etags.append(container.patch("a", partition_key="t1", operations=[patch_incr("/n")])["_etag"])
    assert len(set(etags)) == 4
    assert container.read("a", partition_key="t1")["n"] == 3


def test_stale_etag_is_refused_by_replace_patch_and_delete(make_container):
    container = make_container()
    stale = container.create(item("a", n=0))["_etag"]
    fresh = container.replace(item("a", n=1))["_etag"]
    with pytest.raises(PreconditionFailed):
        container.replace(item("a", n=2), etag=stale)
    with pytest.raises(PreconditionFailed):
        container.patch("a", partition_key="t1", operations=[patch_set("/n", 9)], etag=stale)
    with pytest.raises(PreconditionFailed):
        container.delete("a", partition_key="t1", etag=stale)
    assert container.read("a", partition_key="t1")["n"] == 1
    fresh = container.replace(item("a", n=2), etag=fresh)["_etag"]
    container.delete("a", partition_key="t1", etag=fresh)
    with pytest.raises(NotFound):
        container.read("a", partition_key="t1")


def test_writes_to_a_missing_item_are_not_found(make_container):
    container = make_container()
    with pytest.raises(NotFound):
        container.replace(item("nope"))
    with pytest.raises(NotFound):
        container.patch("nope", partition_key="t1", operations=[patch_set("/n", 1)])
    with pytest.raises(NotFound):
        container.delete("nope", partition_key="t1")


def test_upsert_creates_then_replaces(make_container):
    container = make_container()
    container.upsert(item("a", n=1, old=True))
    container.upsert(item("a", n=2))
    assert {k: v for k, v in container.read("a", partition_key="t1").items() if not k.startswith("_")} == item(
        "a", n=2
    )


def test_patch_sets_increments_and_removes(make_container):
    container = make_container()
    container.create(item("a", n=5, gone="x", meta={"kind": "pdf"}))
    patched = container.patch(
        "a",
        partition_key="t1",
        operations=[patch_incr("/n", 2), patch_set("/status", "ready"), patch_set("/meta/kind", "txt"),
                    patch_remove("/gone")],
    )
    assert patched["n"] == 7
    assert patched["status"] == "ready"
    assert patched["meta"] == {"kind": "txt"}
    assert "gone" not in patched
    assert container.read("a", partition_key="t1") == patched


@pytest.mark.parametrize(
    "operation",
    [patch_remove("/absent"), patch_set("/nowhere/field", 1), patch_incr("/label", 1), patch_set("/label/x", 1)],
    ids=["remove a missing field", "set under a missing parent", "incr a string", "set under a string"],
)
def test_a_patch_the_items_data_does_not_allow_fails_alike_and_changes_nothing(make_container, operation):
    """Cosmos refuses these with a 400 (the store's plain StoreError); SQLite must not quietly do
    something else."""
    container = make_container()
    before = container.create(item("a", n=1, label="text"))
    for attempt in (
        lambda: container.patch("a", partition_key="t1", operations=[patch_set("/n", 2), operation]),
        lambda: container.batch([batch_patch("a", [patch_set("/n", 2), operation])], partition_key="t1"),
    ):
        with pytest.raises(StoreError) as raised:
            attempt()
        assert type(raised.value) is StoreError
        assert container.read("a", partition_key="t1") == before


def patch_target(make_container):
    """A container whose items must carry `rank` and `meta.created` (its orderings), with one item."""
    container = make_container(orderings=((("rank", "desc"),), (("meta.created", "asc"),)))
    container.create(item("a", n=1, rank=1, meta={"created": "2026-01-01", "kind": "pdf"}))
    return container


BAD_PATCHES = {
    "set _etag": [patch_set("/_etag", '"x"')],
    "set _ts": [patch_set("/_ts", 1)],
    "remove _rid": [patch_remove("/_rid")],
    "set _attachments": [patch_set("/_attachments", "x")],
    "set id": [patch_set("/id", "b")],
    "remove id": [patch_remove("/id")],
    "set partition key": [patch_set("/tenant", "t2")],
    "remove partition key": [patch_remove("/tenant")],
    "set under partition key": [patch_set("/tenant/x", 1)],
    "remove sort field": [patch_remove("/rank")],
    "null sort field": [patch_set("/rank", None)],
    "remove nested sort field": [patch_remove("/meta/created")],
    "null nested sort field": [patch_set("/meta/created", None)],
    "remove parent of sort field": [patch_remove("/meta")],
    "null parent of sort field": [patch_set("/meta", None)],
    "parent without sort field": [patch_set("/meta", {"kind": "txt"})],
    "parent not an object": [patch_set("/meta", "x")],
    "incr by a string": [patch_incr("/n", "1")],
    "incr by a bool": [patch_incr("/n", True)],
    "unknown op": [PatchOp("add", "/n", 1)],
    "empty path": [patch_set("", 1)],
    "root path": [patch_set("/", 1)],
    "relative path": [patch_set("n", 1)],
    "empty segment": [patch_set("/meta//kind", 1)],
    "array index": [patch_set("/tags/0", 1)],
    "not an identifier": [patch_set("/a-b", 1)],
    "fine then bad": [patch_set("/n", 2), patch_set("/id", "b")],
    "no operations": [],
    "11 operations": [patch_incr("/n")] * 11,
}


@pytest.mark.parametrize("operations", BAD_PATCHES.values(), ids=BAD_PATCHES.keys())
def test_bad_patch_operations_are_refused_before_any_io(make_container, operations):
    container = patch_target(make_container)
    before = container.read("a", partition_key="t1")
    with count_store_calls() as calls:
        with pytest.raises(ValueError, match="patch"):
            container.patch("a", partition_key="t1", operations=operations)
        with pytest.raises(ValueError, match="patch"):
            container.batch([batch_create(item("b", rank=2, meta={"created": "x"})), batch_patch("a", operations)],
                            partition_key="t1")
    assert calls.calls == 0
    assert container.read("a", partition_key="t1") == before
    with pytest.raises(NotFound):
        container.read("b", partition_key="t1")


def test_patch_may_give_sort_fields_other_values(make_container):
    container = patch_target(make_container)
    operations = [patch_set("/rank", 5), patch_incr("/rank"), patch_set("/meta", {"created": "2026-02-01"}),
                  patch_set("/meta/created", "2026-03-01"), patch_set("/note", None)]
    patched = container.patch("a", partition_key="t1", operations=operations)
    assert (patched["rank"], patched["meta"], patched["note"]) == (6, {"created": "2026-03-01"}, None)
    (batched,) = container.batch([batch_patch("a", [patch_set("/rank", 0)])], partition_key="t1")
    assert batched["rank"] == 0


def test_a_patch_takes_up_to_10_operations(make_container):
    container = patch_target(make_container)
    assert container.patch("a", partition_key="t1", operations=[patch_incr("/n")] * 10)["n"] == 11


def test_items_over_2_mb_are_refused(make_container):
    container = make_container()
    with pytest.raises(TooLarge):
        container.create(item("big", blob=BIG))
    container.create(item("a"))
    with pytest.raises(TooLarge):
        container.upsert(item("a", blob=BIG))
    with pytest.raises(TooLarge):
        container.replace(item("a", blob=BIG))
    with pytest.raises(TooLarge):
        container.patch("a", partition_key="t1", operations=[patch_set("/blob", BIG)])
    with pytest.raises(NotFound):
        container.read("big", partition_key="t1")


# --- queries -------------------------------------------------------------------------------------
def test_items_of_one_partition_are_invisible_from_another(make_container):
    container = make_container(filter_fields=("kind",))
    container.create(item("a", tenant="A", kind="x"))
    container.create(item("b", tenant="B", kind="x"))
    assert [i["id"] for i in container.query(Query(), partition_key="B").items] == ["b"]
    assert container.count([q.eq("kind", "x")], partition_key="B") == 1
    assert container.count([q.eq("kind", "x")], partition_key=None) == 2


def test_paging_250_items_returns_each_exactly_once_in_order(make_container):
    container = make_container(orderings=((("rank", "desc"),),))
    for n in range(250):
        container.create(item(f"i{n:03}", rank=n % 7))
    items, pages = walk(container, Query(order_by=(("rank", "desc"),), limit=30), "t1")
    expected = sorted((f"i{n:03}" for n in range(250)), key=lambda i: (-(int(i[1:]) % 7), i))
    assert [i["id"] for i in items] == expected
    assert pages == 9


def test_paging_is_stable_under_concurrent_inserts(make_container):
    container = make_container(orderings=((("rank", "asc"),),))
    for n in range(0, 100, 2):
        container.create(item(f"i{n:03}", rank=n))
    seen, token, inserted = [], None, 1
    while True:
        page = container.query(Query(order_by=(("rank", "asc"),), limit=7, continuation=token), partition_key="t1")
        seen += [i["id"] for i in page.items]
        # Insert on both sides of the page boundary while the walk is under way.
        container.create(item(f"i{inserted:03}", rank=inserted))
        inserted += 2
        token = page.continuation
        if token is None:
            break
    originals = [f"i{n:03}" for n in range(0, 100, 2)]
    assert [i for i in seen if i in originals] == originals
    assert len(seen) == len(set(seen))


FIXTURE_ITEMS = [
    item("a", status="ready", n=1, name="alpha", tags=["red", "blue"], meta={"kind": "pdf"}, created="2026-01-03"),
    item("b", status="failed", n=2, name="beta", tags=["blue"], meta={"kind": "txt"}, created="2026-01-01"),
    item("c", status="ready", n=3, name="alpine", tags=[], meta={"kind": "pdf"}, created="2026-01-02"),
    item("d", status="pending", n=4, name="delta", tags=["red"], meta={"kind": "pdf"}, created="2026-01-01"),
    item("e", status="ready", n=5, name="echo", tags=["green"], meta={"kind": "md"}, created="2026-01-03"),
    item("z", tenant="t2", status="ready", n=1, name="alpha", tags=["red"], meta={"kind": "pdf"}, created="2026-01-01"),
]


@pytest.fixture
def filled(make_container):
    container = make_container(
        filter_fields=("status", "n", "name", "tags", "meta.kind", "created"),
        orderings=((("status", "asc"), ("n", "desc")), (("created", "desc"), ("name", "asc"))),
    )
    for it in FIXTURE_ITEMS:
        container.create(dict(it))
    return container


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([q.eq("status", "ready")], ["a", "c", "e"]),
        ([q.ne("status", "ready")], ["b", "d"]),
        ([q.in_("status", ["failed", "pending"])], ["b", "d"]),
        ([q.gte("n", 2), q.lt("n", 5)], ["b", "c", "d"]),
        ([q.gt("n", 2), q.lte("n", 4)], ["c", "d"]),
        ([q.startswith("name", "alp")], ["a", "c"]),
        ([q.array_contains("tags", "red")], ["a", "d"]),
        ([q.eq("meta.kind", "pdf"), q.eq("status", "ready")], ["a", "c"]),
        ([q.eq("id", "b")], ["b"]),
        ([q.eq("status", "nope")], []),
    ],
)
def test_filters(filled, filters, expected):
    page = filled.query(Query(filters=tuple(filters)), partition_key="t1")
    assert [i["id"] for i in page.items] == expected
    assert filled.count(filters, partition_key="t1") == len(expected)


# The same field holding true, false, 1, 0, null, a string, or nothing at all.
KIND_ITEMS = [
    item("true", flag=True, tags=[True]),
    item("false", flag=False, tags=[False]),
    item("one", flag=1, tags=[1]),
    item("zero", flag=0, tags=[0]),
    item("null", flag=None, tags=[None]),
    item("text", flag="true", tags=["true"]),
    item("missing"),
]


@pytest.fixture
def kinds(make_container):
    container = make_container(filter_fields=("flag", "tags"))
    for it in KIND_ITEMS:
        container.create(dict(it))
    return container


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        # A value matches only values of its own JSON type: true is not 1, false is not 0.
        (q.eq("flag", True), ["true"]),
        (q.eq("flag", False), ["false"]),
        (q.eq("flag", 1), ["one"]),
        (q.eq("flag", 1.0), ["one"]),
        (q.eq("flag", 0), ["zero"]),
        (q.eq("flag", "true"), ["text"]),
        # ne as well: it never matches another type, null, or a missing field.
        (q.ne("flag", True), ["false"]),
        (q.ne("flag", False), ["true"]),
        (q.ne("flag", 1), ["zero"]),
        (q.ne("flag", 0), ["one"]),
        (q.ne("flag", "x"), ["text"]),
        (q.in_("flag", [True, False]), ["false", "true"]),
        (q.in_("flag", [0, 1]), ["one", "zero"]),
        (q.in_("flag", [1, 2]), ["one"]),
        (q.in_("flag", ["true", "false"]), ["text"]),
        (q.gt("flag", 0), ["one"]),
        (q.lte("flag", 0), ["zero"]),
        (q.gte("flag", "a"), ["text"]),
        (q.array_contains("tags", True), ["true"]),
        (q.array_contains("tags", 1), ["one"]),
        (q.array_contains("tags", 0), ["zero"]),
        (q.array_contains("tags", "true"), ["text"]),
        # null and missing are asked for explicitly, and are not the same.
        (q.is_null("flag"), ["null"]),
        (q.is_missing("flag"), ["missing"]),
        (q.is_null("tags"), []),
        (q.is_missing("tags"), ["missing"]),
    ],
    ids=repr,
)
def test_values_match_only_their_own_type(kinds, flt, expected):
    page = kinds.query(Query(filters=(flt,)), partition_key="t1")
    assert sorted(i["id"] for i in page.items) == expected
    assert kinds.count([flt], partition_key="t1") == len(expected)


@pytest.mark.parametrize(
    "flt",
    [
        q.eq("flag", None),
        q.ne("flag", None),
        q.in_("flag", [None]),
        q.in_("flag", ["x", None]),
        q.in_("flag", [True, 1]),  # one kind per IN
        q.in_("flag", ["1", 1]),
        q.array_contains("tags", None),
        q.lt("flag", True),  # ranges are over strings or numbers
        q.gte("flag", None),
        q.startswith("flag", 1),
        q.eq("flag", [1]),
        q.eq("flag", {"a": 1}),
        q.eq("flag", float("nan")),
        q.eq("flag", float("inf")),
        q.eq("flag", 2**64),
    ],
    ids=repr,
)
def test_filter_values_outside_the_semantics_are_refused(kinds, flt):
    with count_store_calls() as calls:
        with pytest.raises(InvalidQuery):
            kinds.query(Query(filters=(flt,)), partition_key="t1")
        with pytest.raises(InvalidQuery):
            kinds.count([flt], partition_key="t1")
    assert calls.calls == 0


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ((("status", "asc"), ("n", "desc")), ["b", "d", "e", "c", "a"]),
        ((("status", "desc"), ("n", "asc")), ["a", "c", "e", "d", "b"]),
        ((("created", "desc"), ("name", "asc")), ["a", "e", "c", "b", "d"]),
    ],
)
def test_two_field_ordering_pages_the_same_as_one_page(filled, order_by, expected):
    one_page = filled.query(Query(order_by=order_by, limit=100), partition_key="t1")
    assert [i["id"] for i in one_page.items] == expected
    paged, _ = walk(filled, Query(order_by=order_by, limit=2), "t1")
    assert [i["id"] for i in paged] == expected


def test_cross_partition_query_is_explicit_and_ordered(filled):
    items, _ = walk(filled, Query(filters=(q.eq("name", "alpha"),), order_by=(("created", "desc"), ("name", "asc")),
                                  limit=1), None)
    assert [(i["tenant"], i["id"]) for i in items] == [("t1", "a"), ("t2", "z")]


def test_queries_outside_the_declaration_are_refused(filled):
    with pytest.raises(InvalidQuery):
        filled.query(Query(filters=(q.eq("undeclared", 1),)), partition_key="t1")
    with pytest.raises(InvalidQuery):
        filled.query(Query(order_by=(("n", "asc"),)), partition_key="t1")
    with pytest.raises(InvalidQuery):
        filled.query(Query(continuation="not-a-token"), partition_key="t1")
    token = filled.query(Query(limit=1), partition_key="t1").continuation
    with pytest.raises(InvalidQuery):
        filled.query(Query(filters=(q.eq("status", "ready"),), limit=1, continuation=token), partition_key="t1")



# --- indexes: an ordering served within equality filters ---------------------------------------------
BY_STATUS = dict(
    filter_fields=("status", "kind"),
    indexes=(Index(equality=("status",), order=(("created_at", "desc"),)),),
)
STATUSES = ("open", "closed", "draft")


def status_items(tenant: str, count: int) -> list[dict]:
    """Three statuses; created_at with long runs of ties, so page boundaries fall inside them.
    Ids differ across tenants: a cross-partition walk needs (created_at, id) to be unique."""
    return [
        item(f"{tenant}-{n:03}", tenant=tenant, status=STATUSES[n % 3], kind="pdf" if n % 2 else "txt",
             created_at=f"2026-01-{1 + n % 4:02}")
        for n in range(count)
    ]


@pytest.fixture
def by_status(make_container):
    container = make_container(**BY_STATUS)
    for tenant, count in (("t1", 150), ("t2", 40)):
        for start in range(0, count, 100):
            container.batch([batch_create(it) for it in status_items(tenant, count)[start : start + 100]],
                            partition_key=tenant)
    return container


def newest_first(items) -> list[str]:
    """Ids by created_at descending, ties by id ascending (a stable sort keeps the id order)."""
    by_id = sorted(items, key=lambda i: i["id"])
    return [i["id"] for i in sorted(by_id, key=lambda i: i["created_at"], reverse=True)]


@pytest.mark.parametrize("limit", [1, 7, 50, 1000])
def test_an_index_pages_a_filtered_ordering_with_ties_exactly_once_in_order(by_status, limit):
    matching = [i for i in status_items("t1", 150) if i["status"] == "open"]
    query = Query(filters=(q.eq("status", "open"),), order_by=(("created_at", "desc"),), limit=limit)
    items, pages = walk(by_status, query, "t1")
    assert [i["id"] for i in items] == newest_first(matching)
    assert pages == -(-len(matching) // limit)

    reverse = Query(filters=(q.eq("status", "open"),), order_by=(("created_at", "asc"),), limit=limit)
    items, _ = walk(by_status, reverse, "t1")
    assert [i["id"] for i in items] == newest_first(matching)[::-1]


def test_an_index_pages_with_more_filters_and_across_partitions(by_status):
    every = status_items("t1", 150) + status_items("t2", 40)
    query = Query(filters=(q.eq("status", "draft"), q.eq("kind", "pdf")), order_by=(("created_at", "desc"),), limit=4)
    items, _ = walk(by_status, query, "t1")
    assert [i["id"] for i in items] == newest_first(
        [i for i in every if i["tenant"] == "t1" and i["status"] == "draft" and i["kind"] == "pdf"]
    )
    across = Query(filters=(q.eq("status", "closed"),), order_by=(("created_at", "desc"),), limit=9)
    items, _ = walk(by_status, across, None)
    assert [i["id"] for i in items] == newest_first([i for i in every if i["status"] == "closed"])


def test_an_index_token_carries_the_ordering_values_and_continues_only_its_query(by_status):
    query = Query(filters=(q.eq("status", "open"),), order_by=(("created_at", "desc"),), limit=5)
    page = by_status.query(query, partition_key="t1")
    last = page.items[-1]
    # The status is the same for every item the query matches: the token leaves it out.
    assert token_data(page.continuation)["v"] == [last["created_at"], last["id"]]
    other = Query(filters=(q.eq("status", "closed"),), order_by=query.order_by, limit=5, continuation=page.continuation)
    with pytest.raises(InvalidQuery):
        by_status.query(other, partition_key="t1")


def test_paging_stays_right_while_items_are_inserted_into_an_indexed_query(by_status):
    query = Query(filters=(q.eq("status", "open"),), order_by=(("created_at", "desc"),), limit=6)
    originals = newest_first([i for i in status_items("t1", 150) if i["status"] == "open"])
    seen, token, n = [], None, 0
    while True:
        page = by_status.query(Query(query.filters, query.order_by, query.limit, token), partition_key="t1")
        seen += [i["id"] for i in page.items]
        for created_at in ("2026-01-01", "2026-01-09"):  # behind the walk and ahead of it
            by_status.create(item(f"new-{n:03}", status="open", kind="txt", created_at=created_at))
            n += 1
        token = page.continuation
        if token is None:
            break
    assert [i for i in seen if i in originals] == originals
    assert len(seen) == len(set(seen))


def test_an_index_order_without_its_equality_filters_is_refused(by_status):
    order_by = (("created_at", "desc"),)
    refused = [
        (),
        (q.eq("kind", "pdf"),),
        (q.in_("status", ["open"]),),  # eq only: an IN may name several values, which the index cannot page in order
        (q.ne("status", "open"),),
        (q.is_null("status"),),
    ]
    with count_store_calls() as calls:
        for filters in refused:
            with pytest.raises(InvalidQuery):
                by_status.query(Query(filters=filters, order_by=order_by), partition_key="t1")
            with pytest.raises(InvalidQuery):
                by_status.query(Query(filters=filters, order_by=(("created_at", "asc"),)), partition_key=None)
    assert calls.calls == 0
    # Other orders stay undeclared, with the equality filter too.
    with pytest.raises(InvalidQuery):
        by_status.query(Query(filters=(q.eq("status", "open"),), order_by=(("kind", "asc"),)), partition_key="t1")
    # The id order needs no index, as before.
    assert by_status.query(Query(filters=(q.eq("status", "open"),), limit=1), partition_key="t1").items


def test_an_ordering_declared_both_ways_is_served_with_and_without_the_filter(make_container):
    container = make_container(orderings=((("created_at", "desc"),),), **BY_STATUS)
    for it in status_items("t1", 30):
        container.create(it)
    everything, _ = walk(container, Query(order_by=(("created_at", "desc"),), limit=4), "t1")
    assert [i["id"] for i in everything] == newest_first(status_items("t1", 30))
    drafts, _ = walk(container, Query(filters=(q.eq("status", "draft"),), order_by=(("created_at", "desc"),), limit=4),
                     "t1")
    assert [i["id"] for i in drafts] == newest_first([i for i in status_items("t1", 30) if i["status"] == "draft"])


def test_an_index_order_field_is_a_sort_field(make_container):
    container = make_container(**BY_STATUS)
    with pytest.raises(ValueError, match="sort field"):
        container.create(item("a", status="open"))
    container.create(item("a", status="open", created_at="2026-01-01"))
    with pytest.raises(ValueError, match="sort field"):
        container.patch("a", partition_key="t1", operations=[patch_remove("/created_at")])


def test_init_applies_a_changed_index_set_in_place(store_under_test, backend):
    name = f"c{uuid.uuid4().hex[:12]}"
    plain = ContainerSpec(name=name, partition_key="/tenant", filter_fields=("status", "kind"))
    indexed = ContainerSpec(name=name, partition_key="/tenant", **BY_STATUS)
    store_under_test.init([plain])
    store_under_test.container(plain).batch([batch_create(it) for it in status_items("t1", 60)], partition_key="t1")
    query = Query(filters=(q.eq("status", "open"),), order_by=(("created_at", "desc"),), limit=7)
    if backend[0] == "cosmos":
        # The emulator, like Cosmos, refuses an ORDER BY that no composite index serves.
        with pytest.raises(StoreError):
            store_under_test.container(indexed).query(query, partition_key="t1")

    assert [r.outcome for r in store_under_test.init([indexed])] == ["exists"]
    container = store_under_test.container(indexed)
    items, _ = walk(container, query, "t1")
    assert [i["id"] for i in items] == newest_first([i for i in status_items("t1", 60) if i["status"] == "open"])
    assert container.count(partition_key="t1") == 60  # nothing lost

    assert [r.outcome for r in store_under_test.init([plain])] == ["exists"]
    assert store_under_test.container(plain).count(partition_key="t1") == 60


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def token_data(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def retoken(data) -> str:
    return b64(json.dumps(data).encode())


ORDER = (("status", "asc"), ("n", "desc"))  # a token carries [status, n, id]
BAD_TOKENS = {
    "list value": lambda f, v: retoken({"f": f, "v": [v[0], [1], v[2]]}),
    "dict value": lambda f, v: retoken({"f": f, "v": [v[0], {"a": 1}, v[2]]}),
    "nested value": lambda f, v: retoken({"f": f, "v": [[[v[0]]], {"a": [1, {"b": 2}]}, v[2]]}),
    "null value": lambda f, v: retoken({"f": f, "v": [v[0], None, v[2]]}),
    "id not a string": lambda f, v: retoken({"f": f, "v": [v[0], v[1], 7]}),
    "NaN": lambda f, v: b64(f'{{"f": "{f}", "v": ["{v[0]}", NaN, "{v[2]}"]}}'.encode()),
    "infinity": lambda f, v: b64(f'{{"f": "{f}", "v": ["{v[0]}", 1e999, "{v[2]}"]}}'.encode()),
    "int beyond 64 bits": lambda f, v: retoken({"f": f, "v": [v[0], 10**30, v[2]]}),
    "too few values": lambda f, v: retoken({"f": f, "v": v[:2]}),
    "too many values": lambda f, v: retoken({"f": f, "v": [*v, "x"]}),
    "no values": lambda f, v: retoken({"f": f, "v": []}),
    "values not a list": lambda f, v: retoken({"f": f, "v": "abc"}),
    "other fingerprint": lambda f, v: retoken({"f": "0" * 16, "v": v}),
    "no fingerprint": lambda f, v: retoken({"v": v}),
    "no values key": lambda f, v: retoken({"f": f}),
    "json list": lambda f, v: retoken([f, v]),
    "json string": lambda f, v: retoken("abc"),
    "json number": lambda f, v: retoken(7),
    "json null": lambda f, v: retoken(None),
    "nested too deep": lambda f, v: b64(b"[" * 5000 + b"]" * 5000),
    "not json": lambda f, v: b64(b"not json"),
    "not utf-8": lambda f, v: b64(b"\xff\xfe{"),
    "not base64": lambda f, v: "%%%%",
    "not ascii": lambda f, v: "\u00e9t\u00e9",
    "empty object": lambda f, v: retoken({}),
}


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_a_malformed_continuation_token_is_an_invalid_query(filled, make_token):
    real = filled.query(Query(order_by=ORDER, limit=1), partition_key="t1").continuation
    data = token_data(real)
    # The tampering helpers produce working tokens when they change nothing.
    assert filled.query(Query(order_by=ORDER, limit=1, continuation=retoken(data)), partition_key="t1").items
    with pytest.raises(InvalidQuery):
        filled.query(Query(order_by=ORDER, limit=1, continuation=make_token(data["f"], data["v"])), partition_key="t1")


# --- TTL -------------------------------------------------------------------------------------------
def wait_until_gone(container, id_, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            container.read(id_, partition_key="t1")
        except NotFound:
            return True
        time.sleep(0.25)
    return False


def test_items_expire_by_their_ttl_or_the_container_default(make_container):
    per_item = make_container(default_ttl=-1, filter_fields=("kind",))
    per_item.create(item("short", ttl=1, kind="k"))
    per_item.create(item("forever", kind="k"))
    default = make_container(default_ttl=1)
    default.create(item("short"))
    default.create(item("kept", ttl=-1))
    assert per_item.read("short", partition_key="t1")["ttl"] == 1
    assert wait_until_gone(per_item, "short")
    assert wait_until_gone(default, "short")
    assert [i["id"] for i in per_item.query(Query(), partition_key="t1").items] == ["forever"]
    assert per_item.count([q.eq("kind", "k")], partition_key="t1") == 1
    assert default.read("kept", partition_key="t1")["id"] == "kept"
    # An expired id is free again.
    per_item.create(item("short", kind="k"))


def test_without_a_container_ttl_item_ttl_is_ignored(make_container):
    container = make_container()
    container.create(item("a", ttl=1))
    time.sleep(2.5)  # nothing to await: the point is that nothing happens
    assert container.read("a", partition_key="t1")["id"] == "a"


# --- batch -----------------------------------------------------------------------------------------
def test_batch_applies_every_operation(make_container):
    container = make_container()
    existing = container.create(item("old", n=1))
    results = container.batch(
        [batch_create(item("a")), batch_replace(item("old", n=2), etag=existing["_etag"]),
         batch_patch("old", [patch_incr("/n")]), batch_create(item("b"))],
        partition_key="t1",
    )
    assert [r["id"] for r in results] == ["a", "old", "old", "b"]
    assert container.read("old", partition_key="t1")["n"] == 3
    container.batch([batch_delete("a"), batch_delete("b")], partition_key="t1")
    assert container.count(partition_key="t1") == 1


@pytest.mark.parametrize("failing", ["duplicate_create", "stale_etag", "missing_delete"])
def test_batch_is_atomic(make_container, failing):
    container = make_container()
    old = container.create(item("old", n=1))
    container.replace(item("old", n=2))
    bad = {
        "duplicate_create": batch_create(item("a")),
        "stale_etag": batch_replace(item("old", n=99), etag=old["_etag"]),
        "missing_delete": batch_delete("nope"),
    }[failing]
    error = {"duplicate_create": Conflict, "stale_etag": PreconditionFailed, "missing_delete": NotFound}[failing]
    with pytest.raises(error) as caught:
        container.batch([batch_create(item("a")), batch_patch("old", [patch_incr("/n")]), bad], partition_key="t1")
    assert caught.value.operation_index == 2
    with pytest.raises(NotFound):
        container.read("a", partition_key="t1")
    assert container.read("old", partition_key="t1")["n"] == 2


def test_a_batch_of_100_operations_is_applied(make_container):
    container = make_container()
    results = container.batch([batch_create(item(f"i{n:03}")) for n in range(100)], partition_key="t1")
    assert [r["id"] for r in results] == [f"i{n:03}" for n in range(100)]
    assert container.count(partition_key="t1") == 100


def test_a_batch_of_101_operations_is_refused_before_any_io(make_container):
    container = make_container()
    with count_store_calls() as calls, pytest.raises(ValueError, match="at most 100 operations"):
        container.batch([batch_create(item(f"i{n:03}")) for n in range(101)], partition_key="t1")
    assert calls.calls == 0
    assert container.count(partition_key="t1") == 0


# --- concurrency -----------------------------------------------------------------------------------
def test_two_processes_incrementing_with_etag_retry_lose_no_update(make_container, backend):
    container = make_container()
    container.create(item("counter", n=0))
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [
        ctx.Process(target=increment_with_etag_retry,
                    args=(*backend, container.spec, "counter", 40, barrier, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    retries = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert container.read("counter", partition_key="t1")["n"] == 80
    # Both read the same version before either wrote: one of them must have been refused.
    assert sum(retries) >= 1


# --- declaration and counting ----------------------------------------------------------------------
def test_init_is_idempotent_and_refuses_a_changed_partition_key(store_under_test):
    spec = ContainerSpec(name=f"c{uuid.uuid4().hex[:12]}", partition_key="/tenant")
    assert [r.outcome for r in store_under_test.init([spec])] == ["created"]
    assert [r.outcome for r in store_under_test.init([spec])] == ["exists"]
    with pytest.raises(StoreMismatch):
        store_under_test.init([ContainerSpec(name=spec.name, partition_key="/other")])


def test_calls_are_counted_exactly(filled):
    with count_store_calls() as calls:
        filled.read("a", partition_key="t1")
        filled.query(Query(limit=2), partition_key="t1")
        filled.count(partition_key="t1")
        filled.patch("a", partition_key="t1", operations=[patch_incr("/n")])
    assert calls.calls == 4
    assert dict(calls.by_operation) == {"read": 1, "query": 1, "count": 1, "patch": 1}


def test_fields_named_like_sql_keywords_work(make_container):
    container = make_container(filter_fields=("value", "select.from"), orderings=((("order", "desc"),),))
    for n in range(4):
        container.create(item(f"k{n}", value=n % 2, order=n, select={"from": "x" if n < 2 else "y"}))
    page = container.query(
        Query(filters=(q.eq("value", 1), q.eq("select.from", "x")), order_by=(("order", "desc"),)), partition_key="t1"
    )
    assert [i["id"] for i in page.items] == ["k1"]
    items, _ = walk(container, Query(order_by=(("order", "desc"),), limit=3), "t1")
    assert [i["id"] for i in items] == ["k3", "k2", "k1", "k0"]
