"""Store latency benchmark: SQLite backend, Cosmos backend and the raw azure-cosmos SDK.

    .venv/bin/python bench/store.py [--n 2000] [--items 1000] [--section all|latency|pages]

Starts its own Cosmos emulator (stopped at the end) and a SQLite file in a temp dir.

latency: loads `--items` items into one partition, then times point read, single-partition
query and create `--n` times each after a warm-up. The Cosmos backend and the raw SDK run
alternately, call by call, against the same emulator container, so machine noise hits both alike.

pages: a filtered, ordered page (eq(status) ORDER BY created_at DESC, 20 items, the documents
list) from a partition of `--small` and of `--large` items, first page and a middle page (by
continuation token), median of `--page-runs` runs. Goal: the large partition's page costs at
most 2x the small one's, because an index (ContainerSpec.indexes) serves it. SQLite also runs
the same query without that index (the ordering index only) as the baseline, and prints
EXPLAIN QUERY PLAN. The Cosmos emulator answers queries by scanning, so its ratio says nothing
about real Cosmos DB: for Cosmos the section shows what real Cosmos needs (the composite index
in the container's indexing policy, the ORDER BY it serves in the rendered query), and uses
`--cosmos-large` items, since the emulator's scan grows faster than linearly past ~10,000.

Prints only: nothing here fails on slowness, and the tests never run it."""

import argparse
import datetime
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

# Run as `python bench/store.py`, this file's directory comes first on sys.path, where a sibling
# (bench/http.py) would shadow the standard library's `http`, which azure-core imports. Drop it.
_HERE = Path(__file__).resolve().parent
for _entry in [p for p in sys.path if p and Path(p).resolve() == _HERE]:
    sys.path.remove(_entry)
sys.path.insert(0, str(_HERE.parent))


from evaapi.devservices.processes import pid_alive, port_open  # noqa: E402
from evaapi.devservices.services import COSMOS_EMULATOR_KEY, cosmos_process  # noqa: E402
from evaapi.store import batch_create  # noqa: E402
from evaapi.store.cosmos import CosmosStore  # noqa: E402
from evaapi.store.query import Query, eq, query_plan, token_encode  # noqa: E402
from evaapi.store.registry import ContainerSpec, Index  # noqa: E402
from evaapi.store.sqlite import SqliteStore  # noqa: E402

SPEC = ContainerSpec(
    name="bench_items",
    partition_key="/tenant",
    filter_fields=("status",),
    orderings=((("created_at", "desc"),),),
)
TENANT, OTHER, WRITES = "t-bench", "t-other", "t-writes"  # creates go to WRITES: the query partition stays put
QUERY = Query(filters=(eq("status", "open"),), order_by=(("created_at", "desc"),), limit=20)
GOAL_SQLITE_READ_MS = 0.2
GOAL_OVERHEAD_MS = 0.3
OPERATIONS = ("point read", "query", "create")


def item(tenant: str, i: int, prefix: str = "item") -> dict:
    return {
        "id": f"{prefix}-{i:06d}",
        "tenant": tenant,
        "status": "open" if i % 2 else "closed",
        "created_at": f"2026-01-01T00:00:{i:06d}",
        "title": f"document {i}",
        "tags": ["alpha", "beta"],
        "size": i * 17,
    }


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.platform()} | {cpu} | {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable)\n"
        f"Python {platform.python_version()} | azure-cosmos {version('azure-cosmos')} | "
        f"SQLite {sqlite3.sqlite_version} | {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
    )


def rendered_query(container, partition_key: str) -> dict:
    """The SQL, parameters and options the Cosmos backend sends for QUERY, captured from one call."""
    captured = {}
    real = container.client.query_items

    def spy(query, **kwargs):
        captured.update(query=query, **kwargs)
        return real(query, **kwargs)

    container.client.query_items = spy
    try:
        container.query(QUERY, partition_key=partition_key)
    finally:
        del container.client.query_items
    captured.pop("response_hook", None)
    return captured


def measure(variants: dict, n: int, warmup: int) -> dict[str, list[float]]:
    """Runs each variant's call(i) n times (after `warmup` untimed calls), rotating the order
    every iteration. Returns the latencies in ms per variant."""
    names = list(variants)
    samples = {name: [] for name in names}
    for i in range(warmup + n):
        for k in range(len(names)):
            name = names[(i + k) % len(names)]
            start = time.perf_counter_ns()
            variants[name](i)
            elapsed = time.perf_counter_ns() - start
            if i >= warmup:
                samples[name].append(elapsed / 1e6)
    return samples


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=("all", "latency", "pages"), default="all")
    parser.add_argument("--n", type=int, default=2000, help="latency: timed iterations per operation and variant")
    parser.add_argument("--items", type=int, default=1000, help="latency: items loaded into the queried partition")
    parser.add_argument("--small", type=int, default=1000, help="pages: items in the small partition")
    parser.add_argument("--large", type=int, default=100_000, help="pages: items in the large partition (SQLite)")
    parser.add_argument(
        "--cosmos-large", type=int, default=10_000, help="pages: items in the large partition on the Cosmos emulator"
    )
    parser.add_argument("--page-runs", type=int, default=30, help="pages: timed runs per page, size and backend")
    args = parser.parse_args()
    warmup = max(50, args.n // 10)

    latency = pages = None
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        emulator = cosmos_process(log_path=Path(tmp) / "cosmos.log")
        try:
            emulator.start()
            emulator.wait_until_listening()
            endpoint = f"http://127.0.0.1:{emulator.port}/"
            stores = {
                "sqlite": SqliteStore(Path(tmp) / "store.sqlite3"),
                "cosmos": CosmosStore(endpoint=endpoint, key=COSMOS_EMULATOR_KEY, database="bench"),
            }
            if args.section in ("all", "latency"):
                latency = run_latency(stores, args, warmup)
            if args.section in ("all", "pages"):
                pages = run_pages(stores, args)
        finally:
            emulator.stop()
        gone = not pid_alive(emulator.pid) and not port_open(emulator.port)

    print("Store benchmark\n" + machine())
    if latency is not None:
        report(*latency, args, warmup)
    if pages is not None:
        report_pages(pages, args)
    print(f"\nemulator pid {emulator.pid} stopped: {'yes, nothing left running' if gone else 'NO, still running'}")


def run_latency(stores: dict, args, warmup: int) -> tuple[dict, str]:
    for store in stores.values():
        store.init([SPEC])
    sqlite, cosmos = (store.container(SPEC) for store in stores.values())
    for container in (sqlite, cosmos):
        for i in range(args.items):
            container.create(item(TENANT, i))
        for i in range(args.items // 10):
            container.create(item(OTHER, i))
    # The raw SDK: the very container proxy the backend wraps, called without the store.
    raw = cosmos.client
    raw_query = rendered_query(cosmos, TENANT)
    ids = [f"item-{(i * 7919) % args.items:06d}" for i in range(warmup + args.n)]
    new = {name: [item(WRITES, i, name) for i in range(warmup + args.n)] for name in ("sq", "cs", "raw")}

    suites = {
        "point read": {
            "sqlite": lambda i: sqlite.read(ids[i], partition_key=TENANT),
            "cosmos store": lambda i: cosmos.read(ids[i], partition_key=TENANT),
            "cosmos raw SDK": lambda i: raw.read_item(ids[i], partition_key=TENANT),
        },
        "query": {
            "sqlite": lambda i: sqlite.query(QUERY, partition_key=TENANT),
            "cosmos store": lambda i: cosmos.query(QUERY, partition_key=TENANT),
            "cosmos raw SDK": lambda i: list(raw.query_items(**raw_query)),
        },
        "create": {
            "sqlite": lambda i: sqlite.create(new["sq"][i]),
            "cosmos store": lambda i: cosmos.create(new["cs"][i]),
            "cosmos raw SDK": lambda i: raw.create_item(new["raw"][i]),
        },
    }
    return {op: measure(variants, args.n, warmup) for op, variants in suites.items()}, raw_query["query"]


def report(results: dict, sql: str, args, warmup: int) -> None:
    print("\n== latency ==")
    print(
        f"{args.items} items in the queried partition; {args.n} timed iterations after {warmup} warm-up, "
        "backend and raw SDK alternating call by call"
    )
    print(f"query: {sql}\n")
    print(f"{'operation':<11} {'variant':<24} {'median ms':>10} {'p95 ms':>8}  goal")
    print("-" * 90)
    overheads = {}
    for op in OPERATIONS:
        for name, samples in results[op].items():
            median = statistics.median(samples)
            goal = ""
            if op == "point read" and name == "sqlite":
                goal = f"SQLite point read ≤ {GOAL_SQLITE_READ_MS} ms median: " + met(median <= GOAL_SQLITE_READ_MS)
            print(f"{op:<11} {name:<24} {median:>10.3f} {p95(samples):>8.3f}  {goal}".rstrip())
        overhead = statistics.median(results[op]["cosmos store"]) - statistics.median(results[op]["cosmos raw SDK"])
        overheads[op] = overhead
        goal = f"Cosmos backend overhead ≤ {GOAL_OVERHEAD_MS} ms over the raw SDK: " + met(overhead <= GOAL_OVERHEAD_MS)
        print(f"{op:<11} {'overhead (store - raw)':<24} {overhead:>+10.3f} {'':>8}  {goal}")
        print()
    sqlite_ok = statistics.median(results["point read"]["sqlite"]) <= GOAL_SQLITE_READ_MS
    overhead_ok = all(value <= GOAL_OVERHEAD_MS for value in overheads.values())
    print(f"goals: SQLite point read {met(sqlite_ok)}; Cosmos backend overhead (every operation) {met(overhead_ok)}")


def met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


# --- pages: a filtered, ordered page from a small and a large partition ------------------------------
PAGE_TENANT = "t-pages"
PAGE_STATUSES = ("ready", "processing", "failed")  # in turn; the oldest 5% are "archived"
ARCHIVED_SHARE = 0.05
PAGE_LIMIT = 20
NEWEST = (("created_at", "desc"),)
# A status spread through the partition, and one only the oldest items have: newest first, a
# walk of the created_at index finds the first in ~3 entries, the second past 95% of them.
PAGE_CASES = {"ready": "spread", "archived": "oldest 5%"}
PAGES = ("first page", "middle page")
GOAL_PAGE_RATIO = 2.0
PAGE_WARMUP = 3
EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def pages_spec(size: int, *, indexed: bool) -> ContainerSpec:
    """The documents list's declaration (indexed) or the one before ContainerSpec.indexes:
    a filter index on status and an ordering index on created_at (the baseline)."""
    if indexed:
        return ContainerSpec(
            name=f"bench_pages_{size}",
            partition_key="/tenant",
            filter_fields=("status",),
            indexes=(Index(equality=("status",), order=NEWEST),),
        )
    return ContainerSpec(
        name=f"bench_pages_base_{size}", partition_key="/tenant", filter_fields=("status",), orderings=(NEWEST,)
    )


def page_query(status: str, continuation: str | None = None) -> Query:
    return Query(filters=(eq("status", status),), order_by=NEWEST, limit=PAGE_LIMIT, continuation=continuation)


def page_item(i: int, size: int) -> dict:
    """created_at a permutation of `size` seconds, so newest-first is not the insertion order;
    the oldest 5% archived, the others ready, processing and failed in turn."""
    age = (i * 7919) % size
    created = EPOCH + datetime.timedelta(seconds=age)
    return {
        "id": f"doc-{i:06d}",
        "tenant": PAGE_TENANT,
        "status": "archived" if age < size * ARCHIVED_SHARE else PAGE_STATUSES[i % len(PAGE_STATUSES)],
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "title": f"document {i}",
        "size": i * 17,
    }


def fill(container, size: int) -> float:
    """Batches of 100 (Cosmos' limit), one partition; returns the seconds it took."""
    start = time.perf_counter()
    for first in range(0, size, 100):
        batch = [batch_create(page_item(i, size)) for i in range(first, min(size, first + 100))]
        container.batch(batch, partition_key=PAGE_TENANT)
    return time.perf_counter() - start


def page_queries(spec: ContainerSpec, size: int, status: str) -> dict[str, tuple[Query, list[str]]]:
    """The first page and the middle page of the status's list, with the ids each must return.
    The middle page's token is the one the store hands out after the item before it."""
    matching = [it for it in (page_item(i, size) for i in range(size)) if it["status"] == status]
    matching.sort(key=lambda it: it["id"])
    matching.sort(key=lambda it: it["created_at"], reverse=True)
    middle = len(matching) // 2
    token = token_encode(query_plan(spec, page_query(status)), matching[middle - 1])
    ids = [it["id"] for it in matching]
    return {
        "first page": (page_query(status), ids[:PAGE_LIMIT]),
        "middle page": (page_query(status, token), ids[middle : middle + PAGE_LIMIT]),
    }


def run_pages(stores: dict, args) -> dict:
    """Per variant (sqlite, its no-index baseline, cosmos): sizes, fill seconds, the page
    latencies, and what shows the index serves the query (plan lines, policy, SQL)."""
    variants = {
        "sqlite": (stores["sqlite"], True, args.large),
        "sqlite without the equality index (baseline)": (stores["sqlite"], False, args.large),
        "cosmos (emulator)": (stores["cosmos"], True, args.cosmos_large),
    }
    results = {}
    for name, (store, indexed, large) in variants.items():
        sizes = (args.small, large)
        specs = {size: pages_spec(size, indexed=indexed) for size in sizes}
        store.init(list(specs.values()))
        containers = {size: store.container(spec) for size, spec in specs.items()}
        filled = {size: fill(containers[size], size) for size in sizes}
        calls, queries = {}, {}
        for size in sizes:
            for status in PAGE_CASES:
                for page, (query, ids) in page_queries(specs[size], size, status).items():
                    got = [it["id"] for it in containers[size].query(query, partition_key=PAGE_TENANT).items]
                    if got != ids:  # the timed calls must be the right pages
                        raise SystemExit(f"{name}: {status} {page} of {size} items: {got[:3]}... != {ids[:3]}...")
                    key = (status, page, size)
                    calls[key] = lambda i, c=containers[size], q=query: c.query(q, partition_key=PAGE_TENANT)
                    queries[key] = query
        samples = measure(calls, args.page_runs, PAGE_WARMUP)
        result = {"sizes": sizes, "fill": filled, "ms": {key: statistics.median(v) for key, v in samples.items()}}
        large_container = containers[large]
        shown = {page: queries[("archived", page, large)] for page in PAGES}
        if store.backend == "sqlite":
            result["plans"] = {
                page: large_container.explain(query, partition_key=PAGE_TENANT) for page, query in shown.items()
            }
        else:
            result["policy"] = stores["cosmos"].database.get_container_client(specs[large].name).read()[
                "indexingPolicy"
            ]["compositeIndexes"]
            result["sql"] = {
                page: large_container.rendered(query, partition_key=PAGE_TENANT)[0] for page, query in shown.items()
            }
            result["index"] = specs[large].indexes[0]
        results[name] = result
    return results


def report_pages(results: dict, args) -> None:
    print("\n== pages: a filtered, ordered page from a small and a large partition ==")
    print(
        f"query: eq(status, X) ORDER BY created_at DESC, limit {PAGE_LIMIT}, one partition filled by batches of 100; "
        f"created_at all distinct; X = ready (a third of the items, spread through time) and archived (only the "
        f"oldest {ARCHIVED_SHARE:.0%}). Median of {args.page_runs} runs after {PAGE_WARMUP} warm-up, sizes and "
        f"pages alternating call by call. Goal: the large partition's page ≤ {GOAL_PAGE_RATIO:g}x the small one's "
        "(index-backed, not a scan)."
    )
    verdicts = {}
    for name, result in results.items():
        small, large = result["sizes"]
        fills = ", ".join(f"{size:,} items in {seconds:.1f} s" for size, seconds in result["fill"].items())
        print(f"\n{name}  (filled {fills})")
        sizes = f"{f'{small:,} items ms':>16} {f'{large:,} items ms':>18}"
        print(f"  {'status':<20} {'page':<12} {sizes} {'ratio':>7}  goal")
        ratios = []
        for status, where in PAGE_CASES.items():
            for page in PAGES:
                a, b = result["ms"][(status, page, small)], result["ms"][(status, page, large)]
                ratios.append(b / a)
                if name.startswith("cosmos"):
                    goal = "not meaningful: the emulator scans every item"
                else:
                    goal = f"≤ {GOAL_PAGE_RATIO:g}x: {met(b / a <= GOAL_PAGE_RATIO)}"
                print(f"  {f'{status} ({where})':<20} {page:<12} {a:>16.3f} {b:>18.3f} {b / a:>6.1f}x  {goal}")
        verdicts[name] = all(ratio <= GOAL_PAGE_RATIO for ratio in ratios)
        if "plans" in result:
            print(f"  EXPLAIN QUERY PLAN (archived, {large:,} items):")
            for page, lines in result["plans"].items():
                print(f"    {page}: {' | '.join(lines)}")
        if "policy" in result:
            cosmos_evidence(result, args)
    print(
        f"\ngoal (≤ {GOAL_PAGE_RATIO:g}x): SQLite {met(verdicts['sqlite'])}; SQLite without the equality index "
        f"{met(verdicts['sqlite without the equality index (baseline)'])} (the baseline); Cosmos: not measurable on "
        "the emulator, index and query shape shown above"
    )


def cosmos_evidence(result: dict, args) -> None:
    """What real Cosmos needs to serve the query from an index, which the emulator cannot show
    by timing: the composite index, and an ORDER BY that is exactly that index's order."""
    index = result["index"]
    wanted = [{"path": f"/{name}", "order": f"{direction}ending"} for name, direction in index.full_order()]
    declared = result["policy"]
    order_by = ", ".join(f'c["{name}"] {direction.upper()}' for name, direction in index.full_order())
    print(f"  the large size is {args.cosmos_large:,}, not {args.large:,}: the emulator answers a query by scanning")
    print("  and sorting in memory, and grows faster than linearly (seconds per query past ~15,000 items);")
    print("  its ratio says nothing about real Cosmos DB. What real Cosmos needs to read the composite index:")
    print(f"  composite indexes in the container's indexing policy: {json.dumps(declared)}")
    print(f"    (status asc, created_at desc, id asc) among them: {'yes' if wanted in declared else 'NO'}")
    for page, sql in result["sql"].items():
        print(f"  {page} SQL: {sql}")
    serves = all(sql.endswith(f"ORDER BY {order_by}") for sql in result["sql"].values())
    print(f"    ORDER BY is the composite index's order (equality field first): {'yes' if serves else 'NO'}")


if __name__ == "__main__":
    main()
