"""What only the embedded backend has to do: WAL mode, purging expired rows in the background,
leaving a transaction whose COMMIT failed."""

import sqlite3
import time
import uuid

import pytest

from evaapi.store.errors import NotFound, StoreError, StoreUnavailable
from evaapi.store.registry import ContainerSpec
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
