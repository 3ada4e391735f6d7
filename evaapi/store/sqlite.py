"""The embedded backend: one SQLite file, one table per container, JSON documents.

Several processes (daphne, rq workers) write the same file: WAL mode lets readers run beside
the one writer, writes take the lock up front (BEGIN IMMEDIATE) so two read-then-write
transactions cannot deadlock, and a busy timeout queues writers instead of failing them.
Each thread gets its own connection (sqlite3 connections are not shared across threads)."""

import json
import logging
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from evaapi.store.base import BatchOp, Container, InitResult, PatchOp, Store, StoreMismatch, item_check_size
from evaapi.store.errors import Conflict, NotFound, PreconditionFailed, StoreError, StoreUnavailable
from evaapi.store.query import Filter, Keyset, Query, page_from_rows, query_plan, value_kind
from evaapi.store.registry import ContainerSpec

logger = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 60.0
BUSY_TIMEOUT_MS = 10_000


# The json_type() names of each kind of filter value (see query.value_kind).
_JSON_TYPES = {"string": "('text')", "number": "('integer', 'real')", "boolean": "('true', 'false')"}


def _new_etag() -> str:
    return f'"{uuid.uuid4()}"'


def _table(name: str) -> str:
    return f'"items_{name}"'


def _sql_field(spec: ContainerSpec, name: str) -> str:
    """A field of a container's items in SQL, the same text in queries and in index definitions."""
    if name == "id":
        return "id"
    if name == spec.partition_field:
        return "pk"
    # Literal paths (names are validated identifiers) so the expression indexes apply.
    return f"json_extract(doc, '$.{name}')"


def _declared_indexes(spec: ContainerSpec) -> dict[str, str]:
    """The (non-unique) indexes a container's declaration asks for: name -> definition."""

    def columns(ordering) -> str:
        # With the directions, so ORDER BY a DESC, id ASC (and its reverse) reads the index
        # in order instead of sorting.
        return ", ".join(f"{_sql_field(spec, name)} {direction.upper()}" for name, direction in ordering)

    def label(ordering) -> str:
        return "__".join(f"{name}_{direction}" for name, direction in ordering)

    indexes = {f"ix_{spec.name}__expires": "(expires) WHERE expires IS NOT NULL"}
    for name in spec.filter_fields:
        indexes[f"ix_{spec.name}__{name}"] = f"(pk, {_sql_field(spec, name)})"
    for ordering in spec.orderings:
        full = spec.full_ordering(ordering)
        indexes[f"ix_{spec.name}__o_{label(ordering)}"] = f"(pk, {columns(full)})"
        indexes[f"ix_{spec.name}__x_{label(ordering)}"] = f"({columns(full)})"  # cross-partition
    for index in spec.indexes:
        # (pk, equality fields, order, id): the equality values are a seek, the order is the
        # index's, so a page reads `limit` entries whatever the partition's size.
        full = index.full_order()
        name = f"{'__'.join(index.equality)}__{label(index.order)}"
        indexes[f"ix_{spec.name}__e_{name}"] = f"(pk, {columns(full)})"
        indexes[f"ix_{spec.name}__ex_{name}"] = f"({columns(full)})"  # cross-partition
    return indexes


class SqliteContainer(Container):
    def __init__(self, spec: ContainerSpec, store: "SqliteStore"):
        super().__init__(spec)
        self.store = store
        self.table = _table(spec.name)

    # --- SQL pieces -------------------------------------------------------------------------
    def _expr(self, name: str) -> str:
        return _sql_field(self.spec, name)

    def _where(self, filters: tuple[Filter, ...], partition_key: str | None, now: float):
        """Filters with Cosmos' semantics (see evaapi/store/query.py): SQLite compares across
        types (and json_extract turns true into 1), so every comparison also requires the
        field's JSON type to be the value's; a missing field or null has no type that matches."""
        clauses, params = [self.LIVE], [now]
        if partition_key is not None:
            clauses.append("pk = ?")
            params.append(partition_key)
        for flt in filters:
            expr = self._expr(flt.field)
            json_type = f"json_type(doc, '$.{flt.field}')"
            if flt.op == "is_null":
                clauses.append(f"{json_type} = 'null'")
            elif flt.op == "is_missing":
                clauses.append(f"{json_type} IS NULL")
            elif flt.op == "in":
                kind = value_kind(flt.value[0])  # the values are all of one kind (query_plan)
                marks = ", ".join("?" * len(flt.value))
                clauses.append(f"({json_type} IN {_JSON_TYPES[kind]} AND {expr} IN ({marks}))")
                params.extend(flt.value)
            elif flt.op == "startswith":
                clauses.append(f"({json_type} = 'text' AND substr({expr}, 1, ?) = ?)")
                params.extend([len(flt.value), flt.value])
            elif flt.op == "array_contains":
                clauses.append(
                    f"({json_type} = 'array' AND EXISTS (SELECT 1 FROM json_each(doc, '$.{flt.field}') "
                    f"WHERE type IN {_JSON_TYPES[value_kind(flt.value)]} AND value = ?))"
                )
                params.append(flt.value)
            else:
                sql_op = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[flt.op]
                clauses.append(f"({json_type} IN {_JSON_TYPES[value_kind(flt.value)]} AND {expr} {sql_op} ?)")
                params.append(flt.value)
        return clauses, params

    # Expired items stay in the table until purged; every read skips them.
    LIVE = "(expires IS NULL OR expires > ?)"

    def _expires(self, item: dict, now: float) -> float | None:
        default = self.spec.default_ttl
        if default is None:
            return None  # TTL off for the container: an item's ttl is ignored, as in Cosmos.
        ttl = item.get("ttl")
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl == 0:
            ttl = default
        return None if ttl == -1 else now + ttl

    @staticmethod
    def _load(doc: str, etag: str, ts: float) -> dict:
        # json, not orjson (3x faster at parsing): orjson reads an integer past 64 bits as a
        # float, silently (10**30 + 7 came back 1e+30), and telling such items apart first cost
        # more than the parse saved (a regex over each item: 10 us, bench/README.md).
        item = json.loads(doc)
        item["_etag"] = etag
        item["_ts"] = int(ts)
        return item

    # --- writes inside a transaction ----------------------------------------------------------
    def _write_row(self, conn, item: dict, now: float, *, mode: str, etag: str | None = None) -> dict:
        pk, id_ = item[self.spec.partition_field], item["id"]
        doc = json.dumps(item, separators=(",", ":"), ensure_ascii=False)
        new_etag = _new_etag()
        expires = self._expires(item, now)
        row = (doc, new_etag, now, expires, pk, id_)
        try:
            if mode == "create":
                # An expired item is gone: its id is free again.
                conn.execute(f"DELETE FROM {self.table} WHERE pk = ? AND id = ? AND expires <= ?", (pk, id_, now))
                conn.execute(
                    f"INSERT INTO {self.table} (doc, etag, ts, expires, pk, id) VALUES (?, ?, ?, ?, ?, ?)", row
                )
            elif mode == "upsert":
                conn.execute(
                    f"INSERT INTO {self.table} (doc, etag, ts, expires, pk, id) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (pk, id) DO UPDATE SET doc = excluded.doc, etag = excluded.etag, "
                    "ts = excluded.ts, expires = excluded.expires",
                    row,
                )
            else:  # replace
                sql = f"UPDATE {self.table} SET doc = ?, etag = ?, ts = ?, expires = ? "
                sql += f"WHERE pk = ? AND id = ? AND {self.LIVE}"
                params = [*row, now]
                if etag is not None:
                    sql += " AND etag = ?"
                    params.append(etag)
                if conn.execute(sql, params).rowcount == 0:
                    self._raise_missing_or_stale(conn, id_, pk, now)
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"{self.spec.name}: {id_!r} conflicts with an existing item ({exc})") from None
        return self._load(doc, new_etag, now)

    def _raise_missing_or_stale(self, conn, id_: str, pk: str, now: float):
        exists = conn.execute(
            f"SELECT 1 FROM {self.table} WHERE pk = ? AND id = ? AND {self.LIVE}", (pk, id_, now)
        ).fetchone()
        if exists:
            raise PreconditionFailed(f"{self.spec.name}: {id_!r} was changed since the given etag")
        raise NotFound(f"{self.spec.name}: {id_!r} not found")

    def _read_row(self, conn, id_: str, pk: str, now: float) -> dict:
        row = conn.execute(
            f"SELECT doc, etag, ts FROM {self.table} WHERE pk = ? AND id = ? AND {self.LIVE}", (pk, id_, now)
        ).fetchone()
        if row is None:
            raise NotFound(f"{self.spec.name}: {id_!r} not found")
        return self._load(*row)

    def _patch_row(self, conn, id_: str, pk: str, operations: tuple[PatchOp, ...], etag, now: float) -> dict:
        item = self._read_row(conn, id_, pk, now)
        if etag is not None and item["_etag"] != etag:
            raise PreconditionFailed(f"{self.spec.name}: {id_!r} was changed since the given etag")
        for op in operations:
            patch_apply(item, op)
        item = {k: v for k, v in item.items() if k not in ("_etag", "_ts")}
        item_check_size(item)
        return self._write_row(conn, item, now, mode="replace")

    def _delete_row(self, conn, id_: str, pk: str, etag, now: float) -> None:
        sql = f"DELETE FROM {self.table} WHERE pk = ? AND id = ? AND {self.LIVE}"
        params = [pk, id_, now]
        if etag is not None:
            sql += " AND etag = ?"
            params.append(etag)
        if conn.execute(sql, params).rowcount == 0:
            self._raise_missing_or_stale(conn, id_, pk, now)

    def purge_expired(self) -> int:
        """Deletes expired rows (reads already skip them); returns how many."""
        with self.store.transaction() as (conn, now):
            return conn.execute(f"DELETE FROM {self.table} WHERE expires <= ?", (now,)).rowcount

    # --- backend interface ------------------------------------------------------------------
    def _create(self, item):
        with self.store.transaction() as (conn, now):
            return self._write_row(conn, item, now, mode="create")

    def _read(self, id, partition_key):
        with self.store.reading() as (conn, now):
            return self._read_row(conn, id, partition_key, now)

    def _upsert(self, item):
        with self.store.transaction() as (conn, now):
            return self._write_row(conn, item, now, mode="upsert")

    def _replace(self, item, etag):
        with self.store.transaction() as (conn, now):
            return self._write_row(conn, item, now, mode="replace", etag=etag)

    def _patch(self, id, partition_key, operations, etag):
        with self.store.transaction() as (conn, now):
            return self._patch_row(conn, id, partition_key, operations, etag, now)

    def _delete(self, id, partition_key, etag):
        with self.store.transaction() as (conn, now):
            self._delete_row(conn, id, partition_key, etag, now)

    def _select(self, keyset: Keyset, partition_key: str | None, now: float) -> tuple[str, list]:
        clauses, params = self._where(keyset.filters, partition_key, now)
        if keyset.after is not None:
            clause, extra = self._after(keyset)
            clauses.append(clause)
            params.extend(extra)
        # Not keyset.order_by: SQLite reads an index in order past columns the WHERE pins with
        # `=` by itself, and (SQLite 3.40) an `=`-pinned expression in the ORDER BY makes it sort.
        order = ", ".join(f"{self._expr(name)} {direction.upper()}" for name, direction in keyset.ordering)
        sql = f"SELECT doc, etag, ts FROM {self.table} WHERE {' AND '.join(clauses)} ORDER BY {order} LIMIT ?"
        return sql, [*params, keyset.limit + 1]

    def _query(self, keyset: Keyset, partition_key):
        with self.store.reading() as (conn, now):
            sql, params = self._select(keyset, partition_key, now)
            rows = conn.execute(sql, params).fetchall()
        return page_from_rows(keyset, [self._load(*row) for row in rows])

    def explain(self, query: Query, *, partition_key: str | None) -> list[str]:
        """SQLite's EXPLAIN QUERY PLAN lines for the statement `query` runs (for tests and
        the bench: which index serves it, and whether it sorts)."""
        keyset = query_plan(self.spec, query)
        with self.store.reading() as (conn, now):
            sql, params = self._select(keyset, partition_key, now)
            return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()]

    def _after(self, keyset: Keyset):
        """Rows strictly after the last one returned, in the query's ordering. The first
        field's bound (`<=` or `>=`), implied by the alternatives, comes first: a range the
        index can seek to, where the OR alone would make SQLite walk the index from the
        start of the partition (or of the equality prefix) to the page."""
        alternatives, params = [], []
        for i, (name, direction) in enumerate(keyset.ordering):
            parts = [f"{self._expr(prev)} = ?" for prev, _ in keyset.ordering[:i]]
            parts.append(f"{self._expr(name)} {'>' if direction == 'asc' else '<'} ?")
            alternatives.append("(" + " AND ".join(parts) + ")")
            params.extend(keyset.after[: i + 1])
        clause = "(" + " OR ".join(alternatives) + ")"
        if len(keyset.ordering) > 1:
            first, direction = keyset.ordering[0]
            clause = f"({self._expr(first)} {'>=' if direction == 'asc' else '<='} ? AND {clause})"
            params.insert(0, keyset.after[0])
        return clause, params

    def _count(self, filters, partition_key):
        with self.store.reading() as (conn, now):
            clauses, params = self._where(filters, partition_key, now)
            sql = f"SELECT COUNT(*) FROM {self.table} WHERE {' AND '.join(clauses)}"
            return conn.execute(sql, params).fetchone()[0]

    def _batch(self, operations: list[BatchOp], partition_key: str):
        with self.store.transaction() as (conn, now):
            results = []
            for index, op in enumerate(operations):
                try:
                    if op.kind in ("create", "upsert", "replace"):
                        results.append(self._write_row(conn, op.item, now, mode=op.kind, etag=op.etag))
                    elif op.kind == "delete":
                        self._delete_row(conn, op.id, partition_key, op.etag, now)
                        results.append(None)
                    else:
                        results.append(self._patch_row(conn, op.id, partition_key, op.operations, op.etag, now))
                except StoreError as exc:
                    exc.operation_index = index
                    raise  # the transaction rolls back every earlier operation
            return results


def patch_apply(item: dict, op: PatchOp) -> None:
    """Applies one patch operation in place, with Cosmos' semantics for set, incr and remove,
    failures included: what Cosmos refuses with a 400 for this item's data (a missing parent, a
    missing field to remove, incr of a non-number) is the same StoreError here. The path and
    operation are already checked (Container._check_patch)."""
    parts = op.path.split("/")[1:]
    parent = item
    for part in parts[:-1]:
        parent = parent.get(part)
        if not isinstance(parent, dict):
            raise StoreError(f"patch: {op.path!r} has no object to hold it")
    leaf = parts[-1]
    if op.op == "set":
        parent[leaf] = op.value
    elif op.op == "incr":
        current = parent.get(leaf, 0)
        if not isinstance(current, int | float) or isinstance(current, bool):
            raise StoreError(f"patch: incr of {op.path!r}, which is not a number")
        parent[leaf] = current + op.value
    else:  # remove
        if leaf not in parent:
            raise StoreError(f"patch: remove of {op.path!r}, which is not there")
        del parent[leaf]


def _store_error(exc: sqlite3.Error) -> StoreError:
    """Busy or locked (another writer held the file past the busy timeout) is worth retrying;
    any other failure is not. Errors the sqlite3 module raises itself carry no code."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):  # primary code
        return StoreUnavailable(f"sqlite store busy: {exc}")
    return StoreError(f"sqlite store: {exc}")


class SqliteStore(Store):
    backend = "sqlite"

    def __init__(self, path: str | Path, *, purge_interval: float = PURGE_INTERVAL_SECONDS):
        super().__init__()
        self.path = self.location = str(path)
        self._local = threading.local()
        self._purge_interval = purge_interval
        self._purger: threading.Thread | None = None
        self._purger_lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are opened explicitly below.
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self):
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _store_error(exc) from exc
        try:
            yield conn, time.time()
            conn.execute("COMMIT")
        except BaseException as exc:
            # Also when COMMIT itself failed: after SQLITE_BUSY or a deferred constraint the
            # transaction is still open, and every later BEGIN on this thread's connection would
            # fail. Some errors (a full disk, an I/O error) have already ended it.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _store_error(exc) from exc
            raise

    @contextmanager
    def reading(self):
        try:
            yield self._connection(), time.time()
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"sqlite store: {exc}") from exc

    def _container(self, spec):
        if spec.default_ttl is not None:
            self._purger_start()
        return SqliteContainer(spec, self)

    def _purger_start(self) -> None:
        """One daemon thread per process deletes expired rows of the TTL containers in use, so
        expired items do not pile up in the file. Started lazily: after a fork (rq's work
        horse) the child starts its own when it needs one."""
        with self._purger_lock:
            if self._purger is not None and self._purger.is_alive():
                return
            self._purger = threading.Thread(target=self._purge_loop, name="sqlite-ttl-purge", daemon=True)
            self._purger.start()

    def _purge_loop(self) -> None:
        while True:
            time.sleep(self._purge_interval)
            for container in list(self._containers.values()):
                if container.spec.default_ttl is None:
                    continue
                try:
                    container.purge_expired()
                except (StoreError, sqlite3.Error):
                    logger.warning("TTL purge of %s failed; will retry", container.spec.name, exc_info=True)

    def init(self, specs):
        results = []
        with self.transaction() as (conn, _):
            conn.execute("CREATE TABLE IF NOT EXISTS store_containers (name TEXT PRIMARY KEY, spec TEXT NOT NULL)")
            for spec in specs:
                declared = {"partition_key": spec.partition_key, "unique_keys": [list(k) for k in spec.unique_keys]}
                row = conn.execute("SELECT spec FROM store_containers WHERE name = ?", (spec.name,)).fetchone()
                if row is not None:
                    existing = json.loads(row[0])
                    fixed = {k: existing[k] for k in ("partition_key", "unique_keys")}
                    if fixed != declared:
                        raise StoreMismatch(f"container {spec.name!r} exists as {fixed}; the code declares {declared}")
                stored = json.dumps({**declared, "default_ttl": spec.default_ttl})
                conn.execute(
                    "INSERT INTO store_containers (name, spec) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET spec = excluded.spec",
                    (spec.name, stored),
                )
                self._create_table(conn, spec)
                results.append(InitResult(spec.name, "exists" if row else "created"))
        return results

    def _create_table(self, conn, spec: ContainerSpec) -> None:
        table = _table(spec.name)
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (pk TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, "
            "etag TEXT NOT NULL, ts REAL NOT NULL, expires REAL, PRIMARY KEY (pk, id)) WITHOUT ROWID"
        )
        indexes = _declared_indexes(spec)
        # The declaration is the index set: an index it no longer names is dropped (unique
        # keys cannot change, see init; SQLite's own autoindexes are not ours).
        existing = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name LIKE 'ix!_%' ESCAPE '!'",
            (f"items_{spec.name}",),
        ).fetchall()
        for (name,) in existing:
            if name not in indexes:
                conn.execute(f'DROP INDEX "{name}"')
        for name, definition in indexes.items():
            conn.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON {table} {definition}')
        for fields in spec.unique_keys:
            exprs = ", ".join(_sql_field(spec, name) for name in fields)
            conn.execute(
                f'CREATE UNIQUE INDEX IF NOT EXISTS "ux_{spec.name}__{"__".join(fields)}" ON {table} (pk, {exprs})'
            )

    def _ping(self):
        with self.reading() as (conn, _):
            conn.execute("SELECT 1").fetchone()
