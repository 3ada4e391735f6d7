"""Query benchmark: submit to completed, with the extractive provider, on a space of documents
whose chunks are indexed, beside the BM25 library scoring the same corpus alone, in one run.

    .venv/bin/python bench/queries.py [--documents 100] [--runs 50]

Fills a space with `--documents` text documents of about 20 chunks each through the upload and
processing services (embedded SQLite store, files in a temp dir), then asks `--runs` questions,
each through `query_submit` and `query_run` as the API and the rq job call them, in this
process. Prints, median and p95: submit to completed; of which retrieval and answer (as the
query's own `latency_ms` says); and beside them bm25s alone (tokenize + retrieve) over the same
chunks, the baseline. Also: the store calls of one query for a space of 10 documents and of
`--documents` (the goal: the same), and loading the index in a fresh process (what a worker
that did not build it pays once).

Goals (issue 10): retrieval at most 2x the baseline; store calls per query constant in the number of
documents. Prints only: nothing here fails on slowness, and the tests never run it."""

import sys
from pathlib import Path

# Run as `python bench/queries.py`, this file's directory comes first on sys.path, where a
# sibling (bench/http.py) would shadow the standard library's `http`. Drop it.
_HERE = Path(__file__).resolve().parent
for _entry in [p for p in sys.path if p and Path(p).resolve() == _HERE]:
    sys.path.remove(_entry)
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from evaapi.devservices.services import redis_process  # noqa: E402

TOPICS = ["budget", "travel", "payroll", "security", "parking", "laptops", "pension", "backups", "canteen",
          "printing", "onboarding", "mentoring", "recycling", "sabbatical", "languages", "gym", "shipping"]
WORDS = ["policy", "review", "team", "office", "staff", "report", "quarter", "region", "project", "manager",
         "process", "system", "customer", "contract", "approval", "request", "schedule", "meeting", "document",
         "training", "service", "support", "update"]


def _document(number: int, rng: random.Random) -> str:
    """About 20 chunks of text, each paragraph holding one fact of its own."""
    paragraphs = []
    for paragraph in range(20):
        topic = TOPICS[(number + paragraph) % len(TOPICS)]
        filler = " ".join(rng.choice(WORDS) for _ in range(100))
        paragraphs.append(f"Fact {number}-{paragraph}: the {topic} code of unit{number}x{paragraph} is "
                          f"{rng.randint(1000, 9999)}. {filler}.")
    return "\n\n".join(paragraphs)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _row(label: str, values: list[float]) -> str:
    return f"  {label:<44} median {statistics.median(values):8.2f} ms   p95 {_percentile(values, 95):8.2f} ms"


def _space(tenant, documents: int, rng: random.Random):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from documents.services import document_process, document_upload
    from spaces.services import space_create

    space = space_create(tenant=tenant, actor="bench", name=f"bench {documents} {rng.random()}")
    for number in range(documents):
        document = document_upload(tenant=tenant, actor="bench", space_id=space.id,
                                   file=SimpleUploadedFile(f"doc{number}.txt", _document(number, rng).encode()),
                                   filename=f"doc{number}.txt")
        document_process(tenant_id=tenant.id, document_id=document.id)
    return space


def _ask(tenant, space, question: str):
    from spaces.queries.domain import QueryParameters
    from spaces.queries.repositories import query_from_item, query_item_read
    from spaces.queries.services import query_run, query_submit

    started = time.perf_counter()
    query = query_submit(tenant=tenant, actor="bench", space_id=space.id, question=question,
                         parameters=QueryParameters())
    status = query_run(space_id=space.id, query_id=query.id)
    elapsed = (time.perf_counter() - started) * 1000
    assert str(status) == "completed", status
    return elapsed, query_from_item(query_item_read(space_id=space.id, query_id=query.id)).result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="eva-bench-queries-"))
    redis = redis_process(log_path=tmp / "redis.log").start()
    try:
        redis.wait_until_listening()
        os.environ.update(
            DJANGO_SETTINGS_MODULE="evaapi.settings", EVA_ENV="development", DEBUG="false", LOG_LEVEL="WARNING",
            EVA_VAR_DIR=str(tmp / "var"), REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
            EVA_MAX_PENDING_QUERIES="1000000",
        )
        import django

        django.setup()
        from evaapi.auth.services.tenants import tenant_create
        from evaapi.store import container_specs, store
        from evaapi.store.metrics import count_store_calls
        from spaces.queries import indexes
        from spaces.queries.retrieval import bm25_baseline_seconds

        store().init(container_specs())
        print("Query benchmark (extractive provider, SQLite store)")
        print(f"{platform.platform()} | {os.cpu_count()} cores | Python {platform.python_version()} | "
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        rng = random.Random(20261128)
        tenant = tenant_create(name="bench", tier="enterprise")
        started = time.perf_counter()
        big = _space(tenant, args.documents, rng)
        small = _space(tenant, 10, rng)
        print(f"\nfilled spaces of {args.documents} and 10 documents in {time.perf_counter() - started:.1f} s")

        def question() -> str:
            number, paragraph = rng.randrange(args.documents), rng.randrange(20)
            return f"What is the {TOPICS[(number + paragraph) % len(TOPICS)]} code of unit{number}x{paragraph}?"

        started = time.perf_counter()
        _ask(tenant, big, question())  # builds the index (the documents changed)
        build_ms = (time.perf_counter() - started) * 1000
        totals, retrievals, answers = [], [], []
        questions = [question() for _ in range(args.runs)]
        for text in questions:
            elapsed, result = _ask(tenant, big, text)
            totals.append(elapsed)
            retrievals.append(result["latency_ms"]["retrieval"])
            answers.append(result["latency_ms"]["generation"])

        state = indexes.repositories.index_state_read(tenant_id=tenant.id, space_id=big.id)
        entries = indexes._corpus(tenant_id=tenant.id, space_id=big.id)
        baseline = bm25_baseline_seconds(list(entries), questions)
        baseline_ms = [seconds * 1000 for seconds in baseline.search_seconds]

        # The index's own search over the same questions in a loop, as the baseline is timed.
        retriever = indexes.space_retriever(tenant_id=tenant.id, space_id=big.id)
        looped_ms = []
        for text in questions:
            started = time.perf_counter()
            retriever.search(text, top_k=5)
            looped_ms.append((time.perf_counter() - started) * 1000)

        indexes.loaded.clear()  # a process that did not build it
        started = time.perf_counter()
        indexes.space_retriever(tenant_id=tenant.id, space_id=big.id)
        load_ms = (time.perf_counter() - started) * 1000

        calls = {}
        for label, space in (("10 documents", small), (f"{args.documents} documents", big)):
            _ask(tenant, space, question())  # index built and loaded in this process
            with count_store_calls() as counted:
                _ask(tenant, space, question())
            calls[label] = dict(counted.by_operation)

        print(f"space: {args.documents} documents, {state.chunk_count} chunks indexed; first query (builds the "
              f"index) {build_ms:.0f} ms; bm25s alone indexed them in {baseline.index_seconds * 1000:.0f} ms")
        print(f"\n{args.runs} questions, each answered from the index this process holds")
        print(_row("submit to completed", totals))
        print(_row("  of which retrieval (the search)", retrievals))
        print(_row("  of which the answer (extractive)", answers))
        print(_row("the index's search alone, in a loop", looped_ms))
        print(_row("baseline: bm25s alone, in a loop", baseline_ms))
        ratio = statistics.median(looped_ms) / statistics.median(baseline_ms)
        print(f"  search / baseline, both in a loop: {ratio:.2f}x   goal <= 2x: {'met' if ratio <= 2 else 'NOT met'}")
        in_query = statistics.median(retrievals) / statistics.median(baseline_ms)
        print(f"  search within a query / baseline: {in_query:.2f}x (the same search, between a query's store "
              "and Redis calls: colder caches)")
        print(f"\nloading the index in a process that did not build it (once per process): {load_ms:.0f} ms")
        print("\nstore calls of one query (submit + run), by the space's size:")
        for label, by_operation in calls.items():
            print(f"  {label:<16} {sum(by_operation.values())} calls {by_operation}")
        same = len({sum(c.values()) for c in calls.values()}) == 1
        print(f"  constant in the number of documents: {'met' if same else 'NOT met'}")
    finally:
        redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
