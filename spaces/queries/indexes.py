"""Each space's retrieval index: built from its processed documents' chunks when they change,
stored as one file beside the documents, and loaded once per process.

A record per space (repositories.SPACE_INDEXES) says which version is wanted (raised by every
document processed or deleted) and which is built, and where. A query reads that record (one
store call) and, when this process holds the built version already, nothing else: its cost does
not grow with the space's documents. A process that lacks it (a restart, a second worker) loads
the file, not the chunks. Only a change of the space's documents makes the next build read them.
"""

import logging
import threading
from collections import OrderedDict

from django.conf import settings

from documents import repositories as document_repositories
from documents import storage
from documents.domain import DocumentStatus
from evaapi.events.domain import Event
from evaapi.store import PreconditionFailed
from spaces.queries import repositories
from spaces.queries.domain import SpaceIndexState
from spaces.queries.retrieval import Retriever, bm25_index_build, bm25_index_load

logger = logging.getLogger(__name__)

_CHUNK_PAGE = 1000


class _LoadedIndexes:
    """Process-local: space id -> (built version, retriever), the least recently used dropped first."""

    def __init__(self):
        self._lock = threading.Lock()
        self._indexes: OrderedDict[str, tuple[int, Retriever]] = OrderedDict()

    def get(self, space_id: str, version: int) -> Retriever | None:
        with self._lock:
            held = self._indexes.get(space_id)
            if held is None or held[0] != version:
                return None
            self._indexes.move_to_end(space_id)
            return held[1]

    def put(self, space_id: str, version: int, retriever: Retriever) -> None:
        with self._lock:
            self._indexes[space_id] = (version, retriever)
            self._indexes.move_to_end(space_id)
            while len(self._indexes) > settings.EVA_INDEXES_PER_PROCESS:
                self._indexes.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._indexes.clear()


loaded = _LoadedIndexes()


def _corpus(*, tenant_id: str, space_id: str):
    """The chunks of the space's processed documents, as retrieval entries."""
    processed = {
        item["id"]: item["filename"]
        for item in document_repositories.document_items_in_status(
            tenant_id=tenant_id, space_id=space_id, status=DocumentStatus.PROCESSED)
    }
    continuation = None
    while True:
        chunks, continuation = document_repositories.chunks_of_space(space_id=space_id, limit=_CHUNK_PAGE,
                                                                      continuation=continuation)
        for chunk in chunks:
            filename = processed.get(chunk.document_id)
            if filename is not None:  # a document being processed or deleted is not searched
                yield {"chunk_id": chunk.id, "document_id": chunk.document_id, "filename": filename,
                       "text": chunk.text, "index": chunk.index, "page": chunk.page}
        if continuation is None:
            return


def space_index_build(*, tenant_id: str, space_id: str) -> SpaceIndexState | None:
    """Builds the wanted version of the space's index, if it is not built yet; stores and records
    it. Idempotent; two builders of one version: one records, the other's file is removed."""
    state = repositories.index_state_read(tenant_id=tenant_id, space_id=space_id)
    if state is None or state.built_version == state.version:
        return state
    index = bm25_index_build(_corpus(tenant_id=tenant_id, space_id=space_id))
    name = f"{tenant_id}/{space_id}/_index/{state.version}.bm25"
    storage.blob_replace(name, index.to_bytes())
    try:
        recorded = repositories.index_built_set(state, built_version=state.version, blob_name=name,
                                                chunk_count=index.chunk_count)
    except PreconditionFailed:
        # The documents changed again while this was built (or another builder won): the next
        # build, for the newer version, will do.
        if name != (repositories.index_state_read(tenant_id=tenant_id, space_id=space_id) or state).blob_name:
            storage.blob_delete(name)
        return repositories.index_state_read(tenant_id=tenant_id, space_id=space_id)
    if state.blob_name and state.blob_name != name:
        storage.blob_delete(state.blob_name)
    loaded.put(space_id, recorded.built_version, index)
    return recorded


def space_retriever(*, tenant_id: str, space_id: str) -> Retriever:
    """The retriever for the space's current documents: held by this process, loaded from its
    file, or built first when the documents changed since the last build."""
    state = repositories.index_state_read(tenant_id=tenant_id, space_id=space_id)
    if state is None:
        # Never indexed (no document processed since indexes existed): build it once, so the
        # space's documents are found and the next query finds the record.
        state = repositories.index_version_raise(tenant_id=tenant_id, space_id=space_id)
    if state.built_version != state.version:
        state = space_index_build(tenant_id=tenant_id, space_id=space_id) or state
    held = loaded.get(space_id, state.built_version)
    if held is not None:
        return held
    if not state.blob_name:
        return bm25_index_build([])
    with storage.blob_open(state.blob_name) as file:
        retriever = bm25_index_load(file.read())
    loaded.put(space_id, state.built_version, retriever)
    return retriever


def space_index_publish(event: Event) -> None:
    """A sink: a document processed or deleted makes the space's index out of date, and queues
    its rebuild (the next query would build it otherwise)."""
    if event.type not in ("document.processed", "document.deleted") or not event.space_id:
        return
    repositories.index_version_raise(tenant_id=event.tenant_id, space_id=event.space_id)
    from spaces.queries.tasks import space_index_build_enqueue

    space_index_build_enqueue(tenant_id=event.tenant_id, space_id=event.space_id)


def space_index_purge(*, tenant_id: str, space_id: str) -> None:
    state = repositories.index_state_read(tenant_id=tenant_id, space_id=space_id)
    if state is not None and state.blob_name:
        storage.blob_delete(state.blob_name)
    repositories.index_state_delete(tenant_id=tenant_id, space_id=space_id)
