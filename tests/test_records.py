"""evaapi.records: a record built from its stored item is the record that was stored."""

import dataclasses

import pytest

from documents.domain import Document, DocumentStatus
from documents.repositories import document_from_item, document_item
from spaces.domain import Space, SpaceStatus
from spaces.repositories import space_from_item, space_item

DOCUMENT = Document(
    id="d1", tenant_id="t1", space_id="s1", filename="a.txt", kind="txt", media_type="text/plain", size_bytes=3,
    sha256="ab", status=DocumentStatus.PROCESSED, metadata={"k": "v"}, blob_name="s1/ab", created_by="key",
    created_at="2026-11-28T10:00:00Z", updated_at="2026-11-28T10:00:01Z", processing_attempts=1,
    processed_at="2026-11-28T10:00:01Z", char_count=3, chunk_count=1, etag="e1")
SPACE = Space(id="s1", tenant_id="t1", name="Legal", description="", tags=("a", "b"), metadata={},
              document_count=2, created_by="key", created_at="2026-11-28T10:00:00Z",
              updated_at="2026-11-28T10:00:00Z", status=SpaceStatus.ACTIVE, etag="e2")


@pytest.mark.parametrize(("record", "to_item", "from_item"), [
    (DOCUMENT, document_item, document_from_item),
    (SPACE, lambda space: space_item(space, "legal"), space_from_item),
], ids=["document", "space"])
def test_a_record_read_back_from_its_item_is_the_record(record, to_item, from_item):
    item = {**to_item(record), "_etag": record.etag, "_ts": 1}
    read = from_item(item)
    assert type(read) is type(record)
    assert read == record
    assert dataclasses.astuple(read) == dataclasses.astuple(record)  # every field, the etag too
    assert read.status is record.status  # the enum member, not its string
    assert repr(read) == repr(record)
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.id = "other"
    assert dataclasses.replace(read, id="other").id == "other"


def test_a_field_the_item_lacks_reads_as_none():
    item = document_item(DOCUMENT)
    del item["failure_reason"], item["page_count"]
    read = document_from_item(item)
    assert (read.failure_reason, read.page_count, read.etag) == (None, None, None)
