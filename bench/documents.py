"""Upload-to-processed benchmark: what a document costs from upload to `processed`, beside what
its text extraction and chunking alone cost, measured in the same run.

    .venv/bin/python bench/documents.py [--runs 20] [--backend sqlite cosmos]

For a 1 MB text file and a 20-page PDF, each run uploads a fresh copy (the content differs by a
line, so it is no duplicate) through the upload service and processes it through the
processing service, as the API and the rq job call them, in this process: the time from upload
to `processed` is the services' own (checks, hashing, the file write, store writes, events,
extraction, chunk writes), without a queue's wait. The baseline is `text_extract` +
`text_chunk` on the same bytes. Median and p95 of `--runs` runs, per store backend: the
embedded SQLite store, and the Cosmos DB emulator (started and stopped here; its latencies are
a local process's, not Azure's). Files go to the filesystem in a temp dir.

Prints only: nothing here fails on slowness, and the tests never run it."""

import sys
from pathlib import Path

# Run as `python bench/documents.py`, this file's directory comes first on sys.path, where a
# sibling (bench/http.py) would shadow the standard library's `http`. Drop it.
_HERE = Path(__file__).resolve().parent
for _entry in [p for p in sys.path if p and Path(p).resolve() == _HERE]:
    sys.path.remove(_entry)
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from evaapi.devservices.services import COSMOS_EMULATOR_KEY, cosmos_process, redis_process  # noqa: E402


def _pdf(pages: int, marker: str = "") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.set_title(marker)
    for page in range(pages):
        pdf.add_page()
        for line in range(40):
            pdf.cell(0, 6, f"Page {page + 1}, line {line + 1}: the quarterly figures for region {line % 7} grew.",
                     new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _text(size: int) -> bytes:
    sentence = b"The committee reviewed the budget and approved the new travel policy for all staff. "
    paragraph = sentence * 8 + b"\n\n"
    return (paragraph * (size // len(paragraph) + 1))[:size]


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _row(label: str, values: list[float]) -> str:
    return f"  {label:<34} median {statistics.median(values):8.1f} ms   p95 {_percentile(values, 95):8.1f} ms"


def _measure(name: str, make, runs: int) -> None:
    """`make(marker)`: the file's bytes, different for each marker (the same content twice in a
    space is a 409)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from documents.extraction import document_type_detect, text_chunk, text_extract
    from documents.services import document_process, document_upload
    from evaapi.auth.services.tenants import tenant_create
    from spaces.services import space_create

    tenant = tenant_create(name="bench", tier="enterprise")
    space = space_create(tenant=tenant, actor="bench", name=f"bench {uuid.uuid4().hex[:6]}")
    extraction, upload, processing, total = [], [], [], []
    for run in range(runs + 1):  # the first run warms up and is not counted
        content = make(f"run {run} {uuid.uuid4()}")
        kind = document_type_detect(filename=name, file=io.BytesIO(content)).kind
        started = time.perf_counter()
        extracted = text_extract(kind=kind, file=io.BytesIO(content))
        text_chunk(extracted.text, page_starts=extracted.page_starts)
        baseline = time.perf_counter() - started

        started = time.perf_counter()
        document = document_upload(tenant=tenant, actor="bench", space_id=space.id,
                                   file=SimpleUploadedFile(name, content), filename=name)
        uploaded = time.perf_counter()
        status = document_process(tenant_id=tenant.id, document_id=document.id)
        done = time.perf_counter()
        assert str(status) == "processed", status
        if run:
            extraction.append(baseline * 1000)
            upload.append((uploaded - started) * 1000)
            processing.append((done - uploaded) * 1000)
            total.append((done - started) * 1000)
    chunks = text_chunk(extracted.text, page_starts=extracted.page_starts)
    print(f"\n{name} ({len(content) / 1e6:.2f} MB, {extracted.page_count or '-'} pages, "
          f"{extracted.char_count:,} characters, {len(chunks)} chunks), {runs} runs")
    print(_row("upload to processed", total))
    print(_row("  of which upload (checks, file, record)", upload))
    print(_row("  of which processing (the job)", processing))
    print(_row("baseline: extraction + chunking alone", extraction))
    print(f"  overhead over the baseline: median {statistics.median(total) - statistics.median(extraction):.1f} ms "
          f"({statistics.median(total) / statistics.median(extraction):.2f}x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backend", nargs="+", choices=["sqlite", "cosmos"], default=["sqlite", "cosmos"])
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="eva-bench-documents-"))
    redis = redis_process(log_path=tmp / "redis.log").start()
    cosmos = cosmos_process(log_path=tmp / "cosmos.log").start() if "cosmos" in args.backend else None
    try:
        redis.wait_until_listening()
        if cosmos:
            cosmos.wait_until_listening()
        os.environ.update(
            DJANGO_SETTINGS_MODULE="evaapi.settings", EVA_ENV="development", DEBUG="false", LOG_LEVEL="WARNING",
            EVA_VAR_DIR=str(tmp / "var"), REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
        )
        if cosmos:
            os.environ.update(COSMOS_ENDPOINT=f"http://127.0.0.1:{cosmos.port}/", COSMOS_KEY=COSMOS_EMULATOR_KEY)
        import django

        django.setup()
        from django.conf import settings

        from evaapi.store import container_specs, store

        print("Upload-to-processed benchmark")
        print(f"{platform.platform()} | {os.cpu_count()} cores | Python {platform.python_version()} | "
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        text = _text(1_000_000)
        files = {"report.txt": lambda marker: text[: -len(marker) - 1] + b"\n" + marker.encode(),
                 "report.pdf": lambda marker: _pdf(20, marker)}
        for backend in args.backend:
            settings.EVA_STORE_BACKEND = backend
            store.cache_clear()
            store().init(container_specs())
            print(f"\n== store: {backend}" + (" (the local emulator)" if backend == "cosmos" else "") + " ==")
            for name, make in files.items():
                _measure(name, make, args.runs)
    finally:
        for process in (cosmos, redis):
            if process:
                process.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
