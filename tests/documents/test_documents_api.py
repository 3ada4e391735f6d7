"""Documents over REST, end to end with a real rq worker: upload → processed with the text in its
chunks, failures with a reason, refusals that store nothing, duplicates, download, deletion,
the space's document count, the purge of a deleted space, and recovery after crashes. On the
embedded store with files on disk, and on the Cosmos DB emulator with Azurite."""

import threading
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from documents import repositories
from documents.domain import DocumentStatus
from documents.services import document_process, documents_recover_sweep
from documents.storage import document_storage
from evaapi.store.metrics import count_store_calls
from spaces.services import spaces_purge_sweep
from tests.documents.files import (
    ELF_HEADER,
    docx_with_paragraphs_and_table,
    pdf_encrypted,
    pdf_with_text,
)
from tests.factories import api_key_make, client_for, tenant_make
from tests.workers import rq_burst

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(deployment):
    tenant = tenant_make()
    client = client_for(api_key_make(tenant))
    space = client.post("/api/v1/spaces", {"name": f"docs {uuid.uuid4().hex[:6]}"}, format="json").json()
    return tenant, client, space


def _upload(client, space_id, name, content: bytes, **fields):
    return client.post(f"/api/v1/spaces/{space_id}/documents",
                       {"file": SimpleUploadedFile(name, content), **fields}, format="multipart")


def _document(client, document_id):
    return client.get(f"/api/v1/documents/{document_id}").json()


def _streamed(response) -> bytes:
    """A download's body, read as the server reads it (an async iterator; iterating it
    synchronously works, with a warning)."""
    import asyncio

    async def drained():
        return b"".join([block async for block in response.streaming_content])

    return asyncio.run(drained())


def _chunk_text(client, document_id) -> str:
    return " ".join(c["text"] for c in client.get(f"/api/v1/documents/{document_id}/chunks",
                                                  {"limit": 100}).json()["items"])


FILES = {
    "notes.txt": b"The quarterly report mentions heliotrope budgets.",
    "readme.md": b"# Title\n\nMarkdown about **zeppelin** maintenance.\n",
    "page.html": b"<html><head><script>var hidden=1;</script></head><body><p>Visible albatross text</p></body></html>",
    "table.csv": b"name,animal\nann,okapi\nbob,quokka\n",
    "data.json": b'{"animal": "narwhal", "count": 3}',
    "report.pdf": pdf_with_text(["First page about marmalade.", "Second page about tangerines."]),
    "memo.docx": docx_with_paragraphs_and_table(paragraphs=["A memo about saxophones."],
                                                  table=[["Apples", "42"]]),
    "latin.txt": "Café crème and Smörgåsbord recipes.".encode("cp1252"),
}
FINDABLE = {"notes.txt": "heliotrope", "readme.md": "zeppelin", "page.html": "albatross", "table.csv": "quokka",
            "data.json": "narwhal", "report.pdf": "tangerines", "memo.docx": "saxophones", "latin.txt": "Smörgåsbord"}


def test_every_supported_type_goes_from_upload_to_processed(owner, deployment, recorded_events):
    tenant, client, space = owner
    uploaded = {}
    for name, content in FILES.items():
        response = _upload(client, space["id"], name, content, metadata='{"source": "test"}')
        assert response.status_code == 201, (name, response.json())
        body = response.json()
        assert (body["status"], body["size_bytes"], body["metadata"]) == ("uploaded", len(content), {"source": "test"})
        uploaded[name] = body["id"]
    rq_burst(deployment, "documents")
    for name, document_id in uploaded.items():
        document = _document(client, document_id)
        assert document["status"] == "processed", (name, document)
        assert document["chunk_count"] >= 1
        assert FINDABLE[name] in _chunk_text(client, document_id), name
        assert "hidden" not in _chunk_text(client, document_id)
    assert _document(client, uploaded["report.pdf"])["page_count"] == 2
    assert client.get(f"/api/v1/spaces/{space['id']}").json()["document_count"] == len(FILES)
    types = [e["type"] for e in client.get("/api/v1/events", {"type": "document.*", "limit": 100}).json()["items"]]
    assert sorted(types) == sorted(["document.added", "document.processed"] * len(FILES))
    # Published as they happened (the processed ones by the worker's own process).
    assert {e.type for e in recorded_events if e.tenant_id == tenant.id} == {"document.added"}


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("locked.pdf", pdf_encrypted(pdf_with_text(["secret"]), user_password="pw"), "encrypted"),
        ("broken.pdf", b"%PDF-1.7\n" + b"garbage " * 200, "damaged"),
        ("empty.txt", b"   \n\t  \n", "no text"),
    ],
)
def test_unreadable_documents_fail_with_a_reason(owner, deployment, name, content, reason):
    _, client, space = owner
    response = _upload(client, space["id"], name, content)
    assert response.status_code == 201, response.json()
    document_id = response.json()["id"]
    rq_burst(deployment, "documents")
    document = _document(client, document_id)
    assert document["status"] == "failed"
    assert reason in document["failure_reason"]
    failed = client.get("/api/v1/events", {"type": "document.failed"}).json()["items"]
    assert failed[0]["data"]["reason"] == document["failure_reason"]


def _stored_nothing(tenant, space_id):
    documents, _ = repositories.document_page(tenant_id=tenant.id, space_id=space_id, status=None, limit=10,
                                              continuation=None)
    assert documents == []
    assert _files_under(document_storage(), f"{tenant.id}/{space_id}") == []


def _files_under(storage, prefix: str) -> list[str]:
    try:
        directories, files = storage.listdir(prefix)
    except FileNotFoundError:
        return []
    return [f"{prefix}/{name}" for name in files] + [
        path for directory in directories for path in _files_under(storage, f"{prefix}/{directory}")
    ]


@pytest.mark.parametrize(
    ("name", "content", "status"),
    [
        ("notes.txt", ELF_HEADER + b"\x00" * 100, 415),
        ("report.docx", pdf_with_text(["a pdf"]), 415),
        ("tool.exe", b"MZ" + b"\x00" * 100, 415),
        ("empty.txt", b"", 400),
    ],
)
def test_refused_uploads_store_nothing(owner, name, content, status):
    tenant, client, space = owner
    response = _upload(client, space["id"], name, content)
    assert response.status_code == status, response.json()
    _stored_nothing(tenant, space["id"])
    assert client.get(f"/api/v1/spaces/{space['id']}").json()["document_count"] == 0


@override_settings(EVA_MAX_UPLOAD_MB=1)
def test_an_oversized_upload_is_413_and_stores_nothing(owner):
    tenant, client, space = owner
    response = _upload(client, space["id"], "big.txt", b"words and more words\n" * 60_000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    _stored_nothing(tenant, space["id"])


def test_the_same_content_twice_is_409_naming_the_document(owner):
    _, client, space = owner
    first = _upload(client, space["id"], "a.txt", b"identical words").json()
    again = _upload(client, space["id"], "b.txt", b"identical words")
    assert again.status_code == 409
    assert again.json()["error"]["details"]["document_id"] == first["id"]
    # Another space may hold it; after deleting the first, this space may again.
    other = client.post("/api/v1/spaces", {"name": f"other {uuid.uuid4().hex[:6]}"}, format="json").json()
    assert _upload(client, other["id"], "a.txt", b"identical words").status_code == 201
    assert client.delete(f"/api/v1/documents/{first['id']}").status_code == 204
    assert _upload(client, space["id"], "b.txt", b"identical words").status_code == 201


def test_download_gives_the_bytes_back(owner):
    _, client, space = owner
    content = FILES["report.pdf"]
    document = _upload(client, space["id"], "report.pdf", content).json()
    response = client.get(f"/api/v1/documents/{document['id']}/content")
    if response.status_code == 302:  # Blob Storage: a signed URL, fetched as a browser would
        import requests

        assert "sig=" in response["Location"]
        fetched = requests.get(response["Location"], timeout=10)
        assert fetched.status_code == 200
        assert fetched.content == content
    else:
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert _streamed(response) == content


def test_a_download_names_its_file_for_browsers_whatever_its_characters(owner):
    _, client, space = owner
    for name, disposition in (
        ("plain.txt", 'attachment; filename="plain.txt"'),
        ("\u20ac-r\u00e9sum\u00e9.txt", "attachment; filename*=utf-8''%E2%82%AC-r%C3%A9sum%C3%A9.txt"),
    ):
        document = _upload(client, space["id"], name, name.encode() + uuid.uuid4().bytes.hex().encode()).json()
        response = client.get(f"/api/v1/documents/{document['id']}/content")
        if response.status_code == 302:
            pytest.skip("Blob Storage serves the file from a signed URL")
        _streamed(response)
        # Not MIME-encoded whole (=?utf-8?b?...?=), which hid both the attachment and the name.
        assert response["Content-Disposition"] == disposition


def test_a_delete_with_a_stale_if_match_is_412_and_changes_nothing(owner, deployment):
    _, client, space = owner
    document = _upload(client, space["id"], "versioned.txt", b"words of the first version").json()
    stale = client.get(f"/api/v1/documents/{document['id']}")["ETag"]
    rq_burst(deployment, "documents")  # processed: a new version
    current = client.get(f"/api/v1/documents/{document['id']}")["ETag"]
    assert current != stale
    refused = client.delete(f"/api/v1/documents/{document['id']}", HTTP_IF_MATCH=stale)
    assert (refused.status_code, refused.json()["error"]["code"]) == (412, "precondition_failed")
    assert client.get(f"/api/v1/documents/{document['id']}").json()["status"] == "processed"
    assert client.delete(f"/api/v1/documents/{document['id']}", HTTP_IF_MATCH=current).status_code == 204
    assert client.get(f"/api/v1/documents/{document['id']}").status_code == 404


def test_deleting_a_document_removes_file_chunks_and_record(owner, deployment):
    tenant, client, space = owner
    document = _upload(client, space["id"], "notes.txt", FILES["notes.txt"]).json()
    rq_burst(deployment, "documents")
    item = repositories.document_item_read(tenant_id=tenant.id, document_id=document["id"])
    assert document_storage().exists(item["blob_name"])
    assert client.delete(f"/api/v1/documents/{document['id']}").status_code == 204
    assert client.get(f"/api/v1/documents/{document['id']}").status_code == 404
    assert not document_storage().exists(item["blob_name"])
    chunks, _ = repositories.chunks_of_document(space_id=space["id"], document_id=document["id"], limit=10)
    assert chunks == []
    assert _files_under(document_storage(), f"{tenant.id}/{space['id']}/{document['id']}") == []
    listed, _ = repositories.document_page(tenant_id=tenant.id, space_id=space["id"], status=None, limit=10,
                                           continuation=None)
    assert listed == []
    assert client.get(f"/api/v1/spaces/{space['id']}").json()["document_count"] == 0
    types = [e["type"] for e in client.get("/api/v1/events", {"type": "document.*"}).json()["items"]]
    assert types[0] == "document.deleted"


def test_deleting_a_space_leaves_no_document_file_or_chunk(owner, deployment):
    tenant, client, space = owner
    ids = [_upload(client, space["id"], name, FILES[name]).json()["id"] for name in ("notes.txt", "memo.docx")]
    rq_burst(deployment, "documents")
    blobs = [repositories.document_item_read(tenant_id=tenant.id, document_id=i)["blob_name"] for i in ids]
    assert client.delete(f"/api/v1/spaces/{space['id']}").status_code == 204
    assert client.get(f"/api/v1/spaces/{space['id']}/documents").status_code == 404
    rq_burst(deployment, "default")  # the purge job
    _stored_nothing(tenant, space["id"])
    assert not [b for b in blobs if document_storage().exists(b)]
    for document_id in ids:
        assert repositories.chunks_of_document(space_id=space["id"], document_id=document_id, limit=10)[0] == []
    from evaapi.store import NotFound
    from spaces.repositories import space_item_read

    with pytest.raises(NotFound):
        space_item_read(tenant_id=tenant.id, space_id=space["id"])


def test_a_space_whose_purge_job_was_lost_is_purged_by_the_sweeper(owner, deployment):
    import django_rq

    tenant, client, space = owner
    _upload(client, space["id"], "notes.txt", FILES["notes.txt"])
    client.delete(f"/api/v1/spaces/{space['id']}")
    django_rq.get_queue("default").empty()  # a flushed Redis
    assert spaces_purge_sweep(grace_seconds=0) == 1
    _stored_nothing(tenant, space["id"])


def test_a_document_whose_job_was_lost_is_queued_again_by_the_sweeper(owner, deployment):
    import django_rq

    _, client, space = owner
    document = _upload(client, space["id"], "notes.txt", FILES["notes.txt"]).json()
    django_rq.get_queue("documents").empty()  # a flushed Redis
    assert documents_recover_sweep(grace_seconds=0) == 1
    rq_burst(deployment, "documents")
    assert _document(client, document["id"])["status"] == "processed"


def test_a_killed_worker_does_not_leave_a_document_processing_for_ever(owner, deployment, settings):
    """A job that died mid-way leaves `processing`; after the timeout it is tried again, and
    after the last attempt it fails with a reason."""
    tenant, client, space = owner
    document = _upload(client, space["id"], "notes.txt", FILES["notes.txt"]).json()
    settings.DOCUMENT_PROCESSING_TIMEOUT_SECONDS = 0
    for attempt in range(1, 4):
        item = repositories.document_item_read(tenant_id=tenant.id, document_id=document["id"])
        # What a job killed after it took the document leaves behind:
        item["status"], item["processing_attempts"] = "processing", attempt
        item["processing_started_at"] = "2020-01-01T00:00:00.000000Z"
        repositories.document_replace(item, etag=item["_etag"])
        documents_recover_sweep(grace_seconds=0)
        status = _document(client, document["id"])["status"]
        assert status == ("uploaded" if attempt < 3 else "failed"), attempt
    assert "3 attempts" in _document(client, document["id"])["failure_reason"]


def test_processing_twice_is_harmless(owner, deployment):
    tenant, client, space = owner
    document = _upload(client, space["id"], "notes.txt", FILES["notes.txt"]).json()
    assert document_process(tenant_id=tenant.id, document_id=document["id"]) == DocumentStatus.PROCESSED
    assert document_process(tenant_id=tenant.id, document_id=document["id"]) is None
    chunks, _ = repositories.chunks_of_document(space_id=space["id"], document_id=document["id"], limit=100)
    assert len(chunks) == _document(client, document["id"])["chunk_count"]


def test_the_document_count_holds_under_concurrent_uploads_and_deletes(owner):
    _, client, space = owner
    keep = [_upload(client, space["id"], f"k{i}.txt", f"kept {i} {uuid.uuid4()}".encode()).json() for i in range(3)]
    doomed = [_upload(client, space["id"], f"d{i}.txt", f"doomed {i} {uuid.uuid4()}".encode()).json()
              for i in range(8)]
    errors = []

    def run(fn):
        try:
            fn()
        except Exception as exc:
            errors.append(exc)

    work = [lambda d=d: client.delete(f"/api/v1/documents/{d['id']}") for d in doomed]
    work += [lambda i=i: _upload(client, space["id"], f"n{i}.txt", f"new {i} {uuid.uuid4()}".encode())
             for i in range(8)]
    threads = [threading.Thread(target=run, args=(fn,)) for fn in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    listed = client.get(f"/api/v1/spaces/{space['id']}/documents", {"limit": 100}).json()["items"]
    assert len(listed) == len(keep) + 8
    assert client.get(f"/api/v1/spaces/{space['id']}").json()["document_count"] == len(keep) + 8


def test_listing_pages_filters_by_status_and_costs_exact_store_calls(owner, deployment):
    _, client, space = owner
    for i in range(5):
        _upload(client, space["id"], f"f{i}.txt", f"file {i} {uuid.uuid4()}".encode())
    failed = _upload(client, space["id"], "locked.pdf", pdf_encrypted(pdf_with_text(["x"]), user_password="p"))
    rq_burst(deployment, "documents")
    seen, continuation = [], None
    while True:
        params = {"limit": 2, **({"continuation": continuation} if continuation else {})}
        with count_store_calls() as calls:
            body = client.get(f"/api/v1/spaces/{space['id']}/documents", params).json()
        # Authentication (key, tenant), the space, one query.
        assert dict(calls.by_operation) == {"read": 3, "query": 1}
        seen += body["items"]
        continuation = body["continuation"]
        if not continuation:
            break
    assert len(seen) == 6
    assert [d["created_at"] for d in seen] == sorted((d["created_at"] for d in seen), reverse=True)
    only_failed = client.get(f"/api/v1/spaces/{space['id']}/documents", {"status": "failed"}).json()["items"]
    assert [d["id"] for d in only_failed] == [failed.json()["id"]]
    assert client.get(f"/api/v1/spaces/{space['id']}/documents", {"status": "exploded"}).status_code == 400


@pytest.mark.parametrize(("metadata", "status"), [
    ("[1, 2]", 400), ("not json", 400), ('{"a": NaN}', 400), ('{"a": 1e999}', 400), ('{"a": "\\ud800"}', 400),
    # 16 KB as stored (UTF-8), not in characters: 6,000 euro signs are 18,000 bytes.
    ('{"a": "' + "\u20ac" * 6000 + '"}', 400), ('{"a": "' + "\u20ac" * 5000 + '"}', 201), ('{"a": 1}', 201)])
def test_metadata_must_be_a_json_object(owner, metadata, status):
    _, client, space = owner
    response = _upload(client, space["id"], f"m{uuid.uuid4().hex[:4]}.txt", uuid.uuid4().bytes.hex().encode(),
                       metadata=metadata)
    assert response.status_code == status


def test_a_repeated_part_is_400_and_stores_nothing(owner):
    _, client, space = owner
    twice = client.post(f"/api/v1/spaces/{space['id']}/documents",
                        {"file": [SimpleUploadedFile("one.txt", b"first words"),
                                  SimpleUploadedFile("two.txt", b"second words")]}, format="multipart")
    assert twice.status_code == 400
    assert twice.json()["error"]["details"] == {"file": ["Send one."]}
    metadata = _upload(client, space["id"], "meta.txt", b"some words", metadata=['{"a": 1}', '{"a": 2}'])
    assert metadata.json()["error"]["details"] == {"metadata": ["Send one."]}
    assert client.get(f"/api/v1/spaces/{space['id']}/documents").json()["items"] == []


def test_filenames_are_sanitised(owner):
    _, client, space = owner
    body = _upload(client, space["id"], "../../etc/passwd.txt", b"plain words").json()
    assert body["filename"] == "passwd.txt"
