"""What only the embedded backend has to do: WAL mode and purging expired rows in the background."""

import sqlite3
import time
import uuid

from evaapi.store.registry import ContainerSpec
from evaapi.store.sqlite import SqliteStore


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
