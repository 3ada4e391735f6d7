"""What only the embedded backend has to do: WAL mode, purging expired rows in the background,
leaving a transaction whose COMMIT failed, and reading a declared index in order (no sort) for a
filtered, ordered page."""

import sqlite3
import time
import uuid

import pytest

from evaapi.store import Query, batch_create
from evaapi.store import query as q
from evaapi.store.errors import NotFound, StoreError, StoreUnavailable
from evaapi.store.registry import ContainerSpec, Index
from evaapi.store.sqlite import SqliteContainer, SqliteStore


def raw_rows(path, table) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(f'SELECT COUNT(*) FROM "items_{table}"').fetchone()[0]


def test_expired_rows_are_purged_in_the_background(tmp_path):
    path = tmp_path / "store.sqlite3"
    store = SqliteStore(path, purge_interval=0.2)
    spec = ContainerSpec(name=f"c{uuid.uuid4().hex[:8]}", partition_key="/tenant", default_ttl=-1)
    store.init([spec])
    container = store.container(spec)
    container.create({"id": "short", "tenant": "t", "ttl": 1})
    container.create({"id": "kept", "tenant": "t"})
    deadline = time.monotonic() + 15
    while raw_rows(path, spec.name) != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    # No read or write touched the container since: the purger thread removed the row.
    assert raw_rows(path, spec.name) == 1


def test_the_file_is_in_wal_mode(tmp_path):
    store = SqliteStore(tmp_path / "store.sqlite3")
    store.init([])
    with sqlite3.connect(tmp_path / "store.sqlite3") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def sqlite_container(path) -> tuple[SqliteStore, SqliteContainer]:
    store = SqliteStore(path)
    spec = ContainerSpec(name=f"c{uuid.uuid4().hex[:8]}", partition_key="/tenant")
    store.init([spec])
    return store, store.container(spec)


def test_a_commit_refused_as_busy_is_rolled_back_and_the_thread_writes_again(tmp_path):
    path = tmp_path / "store.sqlite3"
    store, container = sqlite_container(path)
    # COMMIT fails with SQLITE_BUSY when it cannot get the file's exclusive lock. In WAL mode
    # readers never stand in its way, so this thread's connection goes back to a rollback
    # journal, where a reader's shared lock does; and it gives up after 50 ms instead of 10 s.
    conn = store._connection()
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA busy_timeout=50")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # shared lock, held until ROLLBACK
    with pytest.raises(StoreUnavailable):
        container.create({"id": "a", "tenant": "t"})
    reader.execute("ROLLBACK")
    reader.close()

    container.create({"id": "b", "tenant": "t"})  # same thread, same connection
    assert container.read("b", partition_key="t")["id"] == "b"
    with pytest.raises(NotFound):
        container.read("a", partition_key="t")


def test_a_commit_refused_by_a_deferred_constraint_is_rolled_back(tmp_path):
    store, container = sqlite_container(tmp_path / "store.sqlite3")
    # The store's own tables have no deferred constraint; these make COMMIT itself fail.
    with store.transaction() as (conn, _):
        conn.execute("CREATE TABLE parent (id PRIMARY KEY)")
        conn.execute("CREATE TABLE child (parent REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")
    conn.execute("PRAGMA foreign_keys=ON")
    with pytest.raises(StoreError) as raised, store.transaction() as (conn, _):
        conn.execute("INSERT INTO child VALUES (1)")
    assert not isinstance(raised.value, StoreUnavailable)  # a constraint: retrying cannot help

    assert conn.execute("SELECT COUNT(*) FROM child").fetchone()[0] == 0
    container.create({"id": "b", "tenant": "t"})
    assert container.read("b", partition_key="t")["id"] == "b"


# --- indexes: the plan of a filtered, ordered page ------------------------------------------------
def index_names(path, table) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (f"items_{table}",))
        return {name for (name,) in rows}


DOCUMENTS = dict(
    partition_key="/tenant",
    filter_fields=("space_id", "status"),
    orderings=((("created_at", "desc"),),),
    indexes=(
        Index(equality=("status",), order=(("created_at", "desc"),)),
        Index(equality=("space_id", "status"), order=(("created_at", "desc"),)),
    ),
)


@pytest.fixture(scope="module", params=[False, True], ids=["no-stats", "analyzed"])
def documents(request, tmp_path_factory):
    """A container with the filter index on status, the ordering index on created_at and the
    equality indexes, 3,000 items in one partition, and (`analyzed`) the planner's statistics
    too: the plan must not depend on whether ANALYZE ever ran."""
    path = tmp_path_factory.mktemp("plan") / "store.sqlite3"
    store = SqliteStore(path)
    spec = ContainerSpec(name=f"c{uuid.uuid4().hex[:8]}", **DOCUMENTS)
    store.init([spec])
    container = store.container(spec)
    items = [
        {
            "id": f"d{n:05}",
            "tenant": "t",
            "space_id": f"s{n % 3}",
            "status": "failed" if n % 7 == 0 else "ready",
            "created_at": f"2026-01-01T{n // 10:05}",
        }
        for n in range(3000)
    ]
    for start in range(0, len(items), 100):
        container.batch([batch_create(it) for it in items[start : start + 100]], partition_key="t")
    if request.param:
        with store.transaction() as (conn, _):
            conn.execute("ANALYZE")
    return container


def plan_of(container: SqliteContainer, filters, order_by, partition_key, *, continued: bool) -> str:
    query = Query(filters=filters, order_by=order_by, limit=20)
    if continued:
        token = container.query(query, partition_key=partition_key).continuation
        query = Query(filters=filters, order_by=order_by, limit=20, continuation=token)
    lines = container.explain(query, partition_key=partition_key)
    assert not [line for line in lines if "TEMP B-TREE" in line], lines  # no sort: the index is read in order
    (line,) = lines
    return line


@pytest.mark.parametrize("continued", [False, True], ids=["first page", "next page"])
@pytest.mark.parametrize("direction", ["desc", "asc"])
def test_a_filtered_ordered_page_reads_the_equality_index_in_order(documents, direction, continued):
    name = documents.spec.name
    order_by = (("created_at", direction),)
    bound = ("<" if direction == "desc" else ">") if continued else ""
    seek = " AND <expr>" + bound + "?" if continued else ""

    line = plan_of(documents, (q.eq("status", "failed"),), order_by, "t", continued=continued)
    assert line == f"SEARCH items_{name} USING INDEX ix_{name}__e_status__created_at_desc (pk=? AND <expr>=?{seek})"

    both = (q.eq("status", "failed"), q.eq("space_id", "s1"))
    line = plan_of(documents, both, order_by, "t", continued=continued)
    assert line == (
        f"SEARCH items_{name} USING INDEX ix_{name}__e_space_id__status__created_at_desc "
        f"(pk=? AND <expr>=? AND <expr>=?{seek})"
    )

    # Across partitions: the same index without the partition key in front.
    line = plan_of(documents, (q.eq("status", "failed"),), order_by, None, continued=continued)
    assert line == f"SEARCH items_{name} USING INDEX ix_{name}__ex_status__created_at_desc (<expr>=?{seek})"


def test_a_removed_index_is_dropped_and_the_others_kept(tmp_path):
    path = tmp_path / "store.sqlite3"
    store = SqliteStore(path)
    spec = ContainerSpec(name=f"c{uuid.uuid4().hex[:8]}", **DOCUMENTS)
    store.init([spec])
    before = index_names(path, spec.name)
    equality = {f"ix_{spec.name}__e_status__created_at_desc", f"ix_{spec.name}__ex_status__created_at_desc"}
    assert equality <= before

    fewer = ContainerSpec(name=spec.name, **{**DOCUMENTS, "indexes": DOCUMENTS["indexes"][1:]})
    store.init([fewer])
    assert index_names(path, spec.name) == before - equality
    store.init([spec])
    assert index_names(path, spec.name) == before



@pytest.mark.parametrize("number", [10**30 + 7, 2**64 + 1, -(2**63) - 1, 2**64 - 1, 10**18 + 1, -(10**25)])
def test_integers_of_any_size_read_back_exactly(tmp_path, number):
    # orjson, tried here to read items faster, read an integer past 64 bits as a float, silently
    # (10**30 + 7 == float(10**30 + 7) is False, where 2**70 == float(2**70) is True: exact
    # powers of two would not tell).
    _, container = sqlite_container(tmp_path / "store.sqlite3")
    container.create({"id": "big", "tenant": "t", "values": [number, 1.5, "é\u2028"], "nested": {"n": number}})
    container.create({"id": "plain", "tenant": "t", "values": [1]})
    for item in (container.read("big", partition_key="t"),
                 *container.query(Query(filters=(q.eq("tenant", "t"),), limit=10), partition_key="t").items):
        if item["id"] == "big":
            assert item["values"] == [number, 1.5, "é\u2028"]
            assert type(item["values"][0]) is int
            assert type(item["nested"]["n"]) is int
            assert item["nested"]["n"] == number
