"""Store latency benchmark: SQLite backend, Cosmos backend and the raw azure-cosmos SDK.

    .venv/bin/python bench/store.py [--n 2000] [--items 1000]

Starts its own Cosmos emulator (stopped at the end) and a SQLite file in a temp dir, loads
`--items` items into one partition, then times point read, single-partition query and create
`--n` times each after a warm-up. The Cosmos backend and the raw SDK run alternately, call by
call, against the same emulator container, so machine noise hits both alike. Prints only:
nothing here fails on slowness, and the tests never run it."""

import argparse
import datetime
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from evaapi.devservices.processes import pid_alive, port_open
from evaapi.devservices.services import COSMOS_EMULATOR_KEY, cosmos_process
from evaapi.store.cosmos import CosmosStore
from evaapi.store.query import Query, eq
from evaapi.store.registry import ContainerSpec
from evaapi.store.sqlite import SqliteStore

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
    parser.add_argument("--n", type=int, default=2000, help="timed iterations per operation and variant")
    parser.add_argument("--items", type=int, default=1000, help="items loaded into the queried partition")
    args = parser.parse_args()
    warmup = max(50, args.n // 10)

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
            results = {op: measure(variants, args.n, warmup) for op, variants in suites.items()}
        finally:
            emulator.stop()
        gone = not pid_alive(emulator.pid) and not port_open(emulator.port)

    report(results, args, warmup, raw_query["query"])
    print(f"\nemulator pid {emulator.pid} stopped: {'yes, nothing left running' if gone else 'NO, still running'}")


def report(results: dict, args, warmup: int, sql: str) -> None:
    print("Store latency benchmark\n" + machine())
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


if __name__ == "__main__":
    main()
