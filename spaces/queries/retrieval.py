"""Retrieval: the chunks of a space that best match a question.

Plain code: no store, no HTTP, no Django. Callers depend on `Retriever` and `Hit` only, so that a
vector or hybrid retriever can stand beside `Bm25Index` later without changing them.

`Bm25Index` is BM25 (the bm25s library) over the chunks, with PyStemmer's English (Snowball)
stemmer and bm25s's larger English stop-word list. It serialises to one bytes blob holding
everything a search needs, the BM25 matrices and vocabulary and the chunks' texts, ids and
filenames, so that a process that loads the blob answers without reading a chunk from a store.
The blob is a ZIP archive of bm25s's own saved files plus a manifest with a format version; it
holds NumPy arrays saved without pickle and JSON, so loading one runs no code.
"""

import io
import json
import logging
import re
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

# bm25s sets its logger to DEBUG when it is imported, over whatever the logging settings said,
# and logs a line at every build: the level goes back to the project's configuration.
logging.getLogger("bm25s").setLevel(logging.NOTSET)

# The blob's layout; raise it when the blob or the tokenisation changes, so that an index built
# the old way is refused (and rebuilt by its owner) rather than searched with mismatched tokens.
INDEX_FORMAT = "eva-bm25-index"
INDEX_FORMAT_VERSION = 1
_MANIFEST_NAME = "eva-index.json"

_STEMMER_LANGUAGE = "english"
# NLTK's English list as bm25s ships it. Its short list (Lucene's 33 words) keeps "what", "how",
# "does", "who", which every question has: they would rank chunks that happen to contain them,
# and a question about nothing in the corpus would not come back empty.
_STOPWORDS_NAME = "bm25s.STOPWORDS_EN_PLUS"
_STOPWORDS = STOPWORDS_EN_PLUS

_ENTRY_FIELDS = ("chunk_id", "document_id", "filename", "text", "index", "page")
# A member of the archive is written into a temporary directory under its own name: a plain
# file name only, so that no member can point outside it.
_MEMBER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
# Fixed, so that the same index gives the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class IndexFormatError(ValueError):
    """The bytes are not a retrieval index this code can read (another format or version)."""


@dataclass(frozen=True)
class CorpusEntry:
    """One chunk as the index takes it in."""

    chunk_id: str
    document_id: str
    filename: str
    text: str
    index: int  # the chunk's position in its document
    page: int | None = None


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    document_id: str
    filename: str
    text: str
    score: float  # > 0; comparable within one search only
    index: int  # the chunk's position in its document
    page: int | None = None


@runtime_checkable
class Retriever(Protocol):
    def search(self, question: str, *, top_k: int, document_ids: AbstractSet[str] | None = None) -> list[Hit]:
        """At most `top_k` chunks that match the question, best first; ties in chunk order.

        Only chunks with a positive score: [] when nothing matches. `document_ids` (when not
        None) restricts the search to the chunks of those documents.
        """
        ...


# A PyStemmer instance keeps state while it stems and must not be shared between threads.
_thread_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    stemmer = getattr(_thread_local, "stemmer", None)
    if stemmer is None:
        stemmer = _thread_local.stemmer = Stemmer.Stemmer(_STEMMER_LANGUAGE)
    return stemmer


def _tokenize(texts: list[str]) -> list[list[str]]:
    """bm25s's tokenizer: lower case, words of 2+ characters, stop words out, stems."""
    if not texts:
        return []
    return bm25s.tokenize(texts, stopwords=_STOPWORDS, stemmer=_stemmer(), return_ids=False, show_progress=False)


def _entry(value: CorpusEntry | Mapping[str, Any]) -> CorpusEntry:
    if isinstance(value, CorpusEntry):
        return value
    missing = [name for name in _ENTRY_FIELDS[:5] if name not in value]
    if missing:
        raise ValueError(f"a corpus entry lacks {', '.join(missing)}")
    page = value.get("page")
    return CorpusEntry(chunk_id=str(value["chunk_id"]), document_id=str(value["document_id"]),
                       filename=str(value["filename"]), text=str(value["text"]), index=int(value["index"]),
                       page=None if page is None else int(page))


class Bm25Index:
    """BM25 over a fixed set of chunks. Immutable: a change of the corpus is a new index
    (`bm25_index_build(...)`, `entries` gives the current chunks back without a store).
    Safe to search from several threads at once."""

    def __init__(self, entries: tuple[CorpusEntry, ...], model: bm25s.BM25 | None):
        # `model` is None when no chunk has a single indexable word (no chunk at all, or only
        # stop words and punctuation): bm25s cannot index an empty vocabulary, and nothing matches.
        self._entries = entries
        self._model = model
        self._vocabulary: dict[str, int] = model.vocab_dict if model is not None else {}
        rows: dict[str, list[int]] = {}
        for row, entry in enumerate(entries):
            rows.setdefault(entry.document_id, []).append(row)
        self._rows_by_document = {document_id: np.asarray(r, dtype=np.int64) for document_id, r in rows.items()}

    @property
    def entries(self) -> tuple[CorpusEntry, ...]:
        return self._entries

    @property
    def chunk_count(self) -> int:
        return len(self._entries)

    @property
    def document_ids(self) -> frozenset[str]:
        return frozenset(self._rows_by_document)

    def search(self, question: str, *, top_k: int, document_ids: AbstractSet[str] | None = None) -> list[Hit]:
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        if self._model is None:
            return []
        token_ids = [self._vocabulary[t] for t in _tokenize([question])[0] if t in self._vocabulary]
        if not token_ids:
            return []
        weight_mask = None
        if document_ids is not None:
            allowed = [self._rows_by_document[d] for d in document_ids if d in self._rows_by_document]
            if not allowed:
                return []
            # bm25s multiplies the scores by the mask: every other chunk scores 0 and is dropped
            # below, so top_k counts only chunks of the allowed documents however few they are.
            weight_mask = np.zeros(len(self._entries), dtype=np.float32)
            weight_mask[np.concatenate(allowed)] = 1.0
        scores = self._model.get_scores_from_ids(token_ids, weight_mask=weight_mask)
        return [self._hit(row, float(scores[row])) for row in _top_rows(scores, top_k)]

    def _hit(self, row: int, score: float) -> Hit:
        entry = self._entries[row]
        return Hit(chunk_id=entry.chunk_id, document_id=entry.document_id, filename=entry.filename,
                   text=entry.text, score=score, index=entry.index, page=entry.page)

    def to_bytes(self) -> bytes:
        """One blob with everything `search` needs; `bm25_index_load` reads it back."""
        manifest = {
            "format": INDEX_FORMAT,
            "version": INDEX_FORMAT_VERSION,
            "stemmer": _STEMMER_LANGUAGE,
            "stopwords": _STOPWORDS_NAME,
            "bm25s": bm25s.__version__,
            "chunk_count": len(self._entries),
            "indexed": self._model is not None,
        }
        members: dict[str, bytes] = {_MANIFEST_NAME: json.dumps(manifest, sort_keys=True).encode()}
        corpus = [[e.chunk_id, e.document_id, e.filename, e.text, e.index, e.page] for e in self._entries]
        if self._model is None:
            members["corpus.jsonl"] = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in corpus).encode()
        else:
            with tempfile.TemporaryDirectory(prefix="eva-bm25-") as directory:
                self._model.save(directory, corpus=corpus, show_progress=False, raise_on_serialization_error=True)
                for path in sorted(Path(directory).iterdir()):
                    members[path.name] = path.read_bytes()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name in sorted(members):
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, members[name], compresslevel=1)
        return buffer.getvalue()


def _top_rows(scores: np.ndarray, top_k: int) -> list[int]:
    """The rows of the `top_k` highest positive scores, best first, equal scores in row order."""
    rows = np.flatnonzero(scores > 0)
    if rows.size == 0:
        return []
    candidate_scores = scores[rows]
    if rows.size > top_k:
        # Everything scoring at least the k-th best, ties included, so that the order below,
        # not argpartition's, decides which equal-scored chunks are kept.
        threshold = np.partition(candidate_scores, rows.size - top_k)[rows.size - top_k]
        keep = candidate_scores >= threshold
        rows, candidate_scores = rows[keep], candidate_scores[keep]
    order = np.lexsort((rows, -candidate_scores))[:top_k]
    return rows[order].tolist()


def bm25_index_build(entries: Iterable[CorpusEntry | Mapping[str, Any]]) -> Bm25Index:
    """An index over the chunks in the order given (the order that breaks ties).

    Entries are `CorpusEntry` or mappings with the same keys (`page` optional). Chunk ids must
    be unique. No entries at all is a valid, empty index.
    """
    corpus = tuple(_entry(e) for e in entries)
    seen: set[str] = set()
    for entry in corpus:
        if entry.chunk_id in seen:
            raise ValueError(f"chunk {entry.chunk_id!r} appears twice in the corpus")
        seen.add(entry.chunk_id)
    tokens = _tokenize([entry.text for entry in corpus])
    # The vocabulary in order of first use (bm25s's own orders it by hash), so that the same
    # chunks give the same index and the same bytes in every process.
    vocabulary: dict[str, int] = {}
    token_ids = [[vocabulary.setdefault(token, len(vocabulary)) for token in chunk] for chunk in tokens]
    if not vocabulary:
        return Bm25Index(corpus, None)
    model = bm25s.BM25()
    model.index((token_ids, vocabulary), create_empty_token=False, show_progress=False)
    return Bm25Index(corpus, model)


def bm25_index_load(data: bytes) -> Bm25Index:
    """The index `Bm25Index.to_bytes` wrote. Raises IndexFormatError for anything else, including
    an index of another format version (its owner rebuilds it from the chunks)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise IndexFormatError("These bytes are not a retrieval index (not a ZIP archive).") from exc
    with archive:
        names = archive.namelist()
        if _MANIFEST_NAME not in names:
            raise IndexFormatError(f"These bytes are not a retrieval index (no {_MANIFEST_NAME}).")
        try:
            manifest = json.loads(archive.read(_MANIFEST_NAME))
        except ValueError as exc:
            raise IndexFormatError(f"The retrieval index's {_MANIFEST_NAME} is not valid JSON.") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != INDEX_FORMAT:
            raise IndexFormatError(f"These bytes are not a retrieval index of format {INDEX_FORMAT!r}.")
        if manifest.get("version") != INDEX_FORMAT_VERSION:
            raise IndexFormatError(
                f"The retrieval index has format version {manifest.get('version')!r}; this code reads "
                f"version {INDEX_FORMAT_VERSION} only. Rebuild the index from its chunks.")
        if manifest.get("stemmer") != _STEMMER_LANGUAGE or manifest.get("stopwords") != _STOPWORDS_NAME:
            raise IndexFormatError("The retrieval index was tokenised differently (stemmer or stop words); "
                                   "rebuild it from its chunks.")
        bad = [name for name in names if not _MEMBER_NAME.fullmatch(name)]
        if bad:
            raise IndexFormatError(f"The retrieval index holds an unexpected member {bad[0]!r}.")
        try:
            if manifest.get("indexed"):
                with tempfile.TemporaryDirectory(prefix="eva-bm25-") as directory:
                    for name in names:
                        (Path(directory) / name).write_bytes(archive.read(name))
                    model = bm25s.BM25.load(directory, load_corpus=True, mmap=False, allow_pickle=False,
                                            show_progress=False)
                corpus_rows = model.corpus
            else:
                model = None
                corpus_rows = [json.loads(line) for line in archive.read("corpus.jsonl").decode().splitlines()]
            entries = tuple(CorpusEntry(chunk_id=r[0], document_id=r[1], filename=r[2], text=r[3], index=r[4],
                                        page=r[5]) for r in corpus_rows)
        except (OSError, KeyError, ValueError, TypeError, IndexError, zipfile.BadZipFile) as exc:
            raise IndexFormatError("The retrieval index is damaged; rebuild it from its chunks.") from exc
    if len(entries) != manifest.get("chunk_count") or (model is not None and model.scores["num_docs"] != len(entries)):
        raise IndexFormatError("The retrieval index is damaged (its chunk count does not match); rebuild it.")
    return Bm25Index(entries, model)


@dataclass(frozen=True)
class Bm25Baseline:
    """What bm25s alone costs on a corpus, for a benchmark to print beside `Bm25Index`'s times."""

    index_seconds: float  # tokenise + index every chunk
    search_seconds: tuple[float, ...]  # per question: tokenise it + score and select top_k


def bm25_baseline_seconds(entries: Iterable[CorpusEntry | Mapping[str, Any]], questions: Iterable[str], *,
                          top_k: int = 5) -> Bm25Baseline:
    """The library's own path, as its README shows it, with the same tokenisation as Bm25Index:
    `bm25s.tokenize` + `BM25.index`, then `bm25s.tokenize` + `BM25.retrieve` per question."""
    texts = [_entry(e).text for e in entries]
    questions = list(questions)
    stemmer = _stemmer()
    started = time.perf_counter()
    corpus_tokens = bm25s.tokenize(texts, stopwords=_STOPWORDS, stemmer=stemmer, show_progress=False)
    model = bm25s.BM25()
    model.index(corpus_tokens, show_progress=False)
    index_seconds = time.perf_counter() - started
    k = min(top_k, len(texts))
    search_seconds = []
    for question in questions:
        started = time.perf_counter()
        question_tokens = bm25s.tokenize([question], stopwords=_STOPWORDS, stemmer=stemmer, show_progress=False)
        model.retrieve(question_tokens, k=k, show_progress=False)
        search_seconds.append(time.perf_counter() - started)
    return Bm25Baseline(index_seconds=index_seconds, search_seconds=tuple(search_seconds))
