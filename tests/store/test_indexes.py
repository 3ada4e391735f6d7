"""Declaring an index that starts with equality fields (ContainerSpec.indexes), and how
query_plan picks it: no store needed."""

import pytest

from evaapi.store import InvalidQuery, Query
from evaapi.store import query as q
from evaapi.store.query import query_plan, token_encode
from evaapi.store.registry import ContainerSpec, Index

NEWEST = (("created_at", "desc"),)


def spec(**declaration) -> ContainerSpec:
    declaration.setdefault("filter_fields", ("status", "space_id"))
    return ContainerSpec(name="docs", partition_key="/tenant", **declaration)


def test_the_declaration_for_documents_of_a_space_by_status_newest_first():
    documents = spec(indexes=(Index(equality=("space_id", "status"), order=NEWEST),))
    assert documents.indexes[0].full_order() == (
        ("space_id", "asc"), ("status", "asc"), ("created_at", "desc"), ("id", "asc"),
    )
    assert documents.sort_fields == {"created_at"}  # every item must carry it, as for orderings


def test_lists_are_kept_as_tuples_so_specs_compare_equal():
    as_lists = spec(indexes=[Index(equality=["status"], order=[["created_at", "desc"]])])
    assert as_lists == spec(indexes=(Index(("status",), NEWEST),))
    hash(as_lists.indexes)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Index(equality="status", order=NEWEST), "tuple of field names"),
        (lambda: Index(equality=(), order=NEWEST), "one or more fields"),
        (lambda: Index(equality=("bad name",), order=NEWEST), "one or more fields"),
        (lambda: Index(equality=("status",), order=()), "one or more"),
        (lambda: Index(equality=("status",), order="created_at"), "pairs"),
        (lambda: Index(equality=("status",), order=(("created_at", "down"),)), "pairs"),
        (lambda: Index(equality=("status",), order=("created_at",)), "pairs"),
        (lambda: Index(equality=("status",), order=(("status", "desc"),)), "twice"),
        (lambda: Index(equality=("status", "status"), order=NEWEST), "twice"),
        (lambda: Index(equality=("status",), order=(("created_at", "desc"), ("id", "asc"))), "id"),
        (lambda: Index(equality=("id",), order=NEWEST), "id"),
        (lambda: spec(indexes=(Index(("tenant",), NEWEST),)), "partition key"),
        (lambda: spec(indexes=(Index(("status",), (("tenant", "asc"),)),)), "partition key"),
        (lambda: spec(indexes=(Index(("kind",), NEWEST),)), "not in filter_fields"),
        (lambda: spec(indexes=Index(("status",), NEWEST)), "tuple of Index"),
        (lambda: spec(indexes=(("status",), NEWEST)), "Index"),
        (lambda: spec(indexes=(Index(("status",), NEWEST), Index(("status",), NEWEST))), "twice"),
    ],
)
def test_a_malformed_index_is_refused_when_declared(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_an_index_serves_its_eq_filters_and_order_or_the_exact_reverse():
    documents = spec(indexes=(Index(("status",), NEWEST),))
    plan = query_plan(documents, Query(filters=(q.eq("status", "open"),), order_by=NEWEST))
    assert plan.prefix == (("status", "asc"),)
    assert plan.ordering == (("created_at", "desc"), ("id", "asc"))
    assert plan.order_by == (("status", "asc"), ("created_at", "desc"), ("id", "asc"))

    reverse = query_plan(documents, Query(filters=(q.eq("status", "open"),), order_by=(("created_at", "asc"),)))
    assert reverse.order_by == (("status", "desc"), ("created_at", "asc"), ("id", "desc"))  # the index read backwards


def test_the_index_with_the_most_equality_fields_serves():
    documents = spec(indexes=(Index(("status",), NEWEST), Index(("space_id", "status"), NEWEST)))
    both = (q.eq("status", "open"), q.eq("space_id", "s1"))
    assert query_plan(documents, Query(filters=both, order_by=NEWEST)).prefix == (
        ("space_id", "asc"), ("status", "asc"),
    )
    one = (q.eq("status", "open"), q.in_("space_id", ["s1", "s2"]))
    assert query_plan(documents, Query(filters=one, order_by=NEWEST)).prefix == (("status", "asc"),)


def test_a_declared_ordering_serves_what_no_index_does():
    documents = spec(orderings=(NEWEST,), indexes=(Index(("status",), NEWEST),))
    plan = query_plan(documents, Query(filters=(q.in_("status", ["a", "b"]),), order_by=NEWEST))
    assert plan.prefix == ()
    assert plan.order_by == (("created_at", "desc"), ("id", "asc"))


@pytest.mark.parametrize(
    "filters",
    [(), (q.eq("space_id", "s1"),), (q.in_("status", ["open"]),), (q.ne("status", "x"),), (q.is_missing("status"),)],
    ids=repr,
)
def test_an_index_order_without_its_eq_filters_is_not_declared(filters):
    documents = spec(indexes=(Index(("status",), NEWEST),))
    with pytest.raises(InvalidQuery, match="only with eq filters on \\('status',\\)"):
        query_plan(documents, Query(filters=filters, order_by=NEWEST))


def test_a_token_is_over_the_ordering_and_survives_adding_the_index():
    """The prefix is one value for every matching item: the token carries created_at and id
    only, so a token issued before the index was declared continues the same query after."""
    query = Query(filters=(q.eq("status", "open"),), order_by=NEWEST, limit=1)
    before = query_plan(spec(orderings=(NEWEST,)), query)
    token = token_encode(before, {"id": "a", "status": "open", "created_at": "2026-01-02"})
    after = query_plan(
        spec(orderings=(NEWEST,), indexes=(Index(("status",), NEWEST),)),
        Query(query.filters, query.order_by, 1, token),
    )
    assert after.prefix == (("status", "asc"),)
    assert after.after == ("2026-01-02", "a")
