"""Retrieval over chunks with BM25 (bm25s + PyStemmer): the right document first for questions
worded unlike the text, no hit for a question about nothing in the corpus, the document filter,
ties, the bytes blob round trip and its format check, and the empty index. Real text, no mocks."""

import io
import json
import zipfile

import bm25s
import pytest
import Stemmer

from documents.extraction import text_chunk
from spaces.queries.retrieval import (
    INDEX_FORMAT_VERSION,
    Bm25Index,
    CorpusEntry,
    Hit,
    IndexFormatError,
    Retriever,
    bm25_baseline_seconds,
    bm25_index_build,
    bm25_index_load,
)

# Thirty short documents, each with its own fact. Several share words with others (Lyon, budget,
# satellite, warranty, project...) so that the right one has to win on the rest of the question.
DOCUMENTS: dict[str, str] = {
    "zephyr.txt": "The Zephyr project budget is 4.2 million euros. The Zephyr project builds a wind farm "
                  "off the coast of Brittany and is funded by three regional banks.",
    "helsinki.md": "Maria Lindqvist manages the Helsinki warehouse. The warehouse stores spare parts for "
                   "the northern region and opened in 2014 next to the harbour.",
    "orion.txt": "The Orion satellite launch took place on 3 March 2021 from French Guiana. Orion "
                 "observes sea ice and sends its images to the ground station in Kiruna.",
    "nordwind.html": "Nordwind Logistics has 1,250 employees across eleven depots. Its head office is in "
                     "Hamburg and its fleet counts four hundred trucks.",
    "kestrel.md": "The Kestrel service is written in Rust. Kestrel answers payment requests for the mobile "
                  "app and keeps an audit trail of every transfer.",
    "porto.txt": "The Porto clinic offers a vaccination programme for travellers to tropical countries, "
                 "with appointments on weekday mornings.",
    "aurora.txt": "Aurora tea is grown in gardens at a high location in Darjeeling. The leaves are picked "
                  "by hand in spring and dried in the shade.",
    "railway.txt": "Trains run between Lyon and Turin at speeds of 220 km/h since the new tunnel opened. "
                   "Tickets can be bought at the station or online.",
    "chapel.md": "The frescoes of the Saint Anne chapel were restored by the painter Giulia Conti in 1998, "
                 "after water damage to the north wall.",
    "atlas.txt": "Every Atlas dishwasher comes with a warranty of five years covering the pump and the "
                 "control board, but not the racks.",
    "lyon-market.txt": "The covered market of Lyon sells cheese, sausages and bread. It is named after a "
                       "famous chef and closes on Mondays.",
    "meridian.txt": "The Meridian project budget was cut after the 2019 audit; the project now studies "
                    "solar panels for schools.",
    "vega.txt": "The Vega satellite measures ozone above Antarctica. Its mission was extended twice by "
                "the space agency.",
    "helios.txt": "The Helios kettle carries a warranty of two years. Descale it monthly in areas with "
                  "hard water.",
    "bakery.md": "The Rue Verte bakery bakes sourdough bread every night. Its owner trained in Vienna and "
                 "sells croissants until noon.",
    "glacier.txt": "The Morteratsch glacier retreated by 30 metres last year, according to measurements "
                   "by the university of Zurich.",
    "library.html": "The city library lends e-books and audiobooks to members. Membership is free for "
                    "children and students.",
    "harbour.txt": "The harbour of Gdansk handled 52 million tonnes of cargo, most of it coal and "
                   "containers bound for the Baltic states.",
    "orchestra.md": "The Riverside orchestra rehearses on Thursday evenings in the old town hall and "
                    "performs four concerts a season.",
    "bicycle.txt": "The Falco bicycle frame is made of carbon fibre and weighs 890 grams. It is assembled "
                   "by hand in Treviso.",
    "vineyard.txt": "The Clos Martin vineyard harvests its grapes in late September. Its red wine ages "
                    "for eighteen months in oak barrels.",
    "museum.md": "The museum of natural history exhibits a complete mammoth skeleton found in Siberia in "
                 "1901.",
    "solar.txt": "The Sunfield plant produces 48 megawatts from photovoltaic modules on a former airfield "
                 "near Leipzig.",
    "bridge.txt": "The Oresund bridge links Copenhagen and Malmo. It carries a motorway on the upper deck "
                  "and a railway below.",
    "coffee.md": "The Alto roastery imports coffee beans from Ethiopia and Colombia and roasts them in small "
                 "batches twice a week.",
    "hospital.txt": "The Saint Luke hospital opened a new cardiology ward with forty beds and two operating "
                    "theatres in 2022.",
    "school.html": "Greenfield school teaches Mandarin from the age of seven. Classes are limited to twenty "
                   "pupils.",
    "ferry.txt": "The ferry to the island of Vis departs from Split three times a day in summer and once a "
                 "day in winter.",
    "observatory.md": "The Pic du Midi observatory sits at 2,877 metres. Visitors watch the stars from its "
                      "terrace on clear nights.",
    "forest.txt": "Rangers counted 312 red deer in the Bialowieza forest during the winter survey, up from "
                  "280 the year before.",
}

# (question, the file that answers it). Worded unlike the documents: plurals, other tenses,
# other forms of a word ("launched" / "launch", "located" / "location", "vaccines" / "vaccination").
QUESTIONS: list[tuple[str, str]] = [
    ("What were the budgets of the Zephyr project?", "zephyr.txt"),
    ("Who is managing the Helsinki warehouses?", "helsinki.md"),
    ("When was the Orion satellite launched?", "orion.txt"),
    ("How many employees does Nordwind Logistics employ?", "nordwind.html"),
    ("Which language are the Kestrel services written in?", "kestrel.md"),
    ("Does the clinic in Porto offer vaccines?", "porto.txt"),
    ("Where are the Aurora tea gardens located?", "aurora.txt"),
    ("How fast are trains running from Lyon to Turin?", "railway.txt"),
    ("Which painter restored the chapel's frescoes?", "chapel.md"),
    ("What is the warranty on Atlas dishwashers?", "atlas.txt"),
]


def _document_id(filename: str) -> str:
    return f"doc-{filename.rsplit('.', 1)[0]}"


def _entries() -> list[CorpusEntry]:
    """The documents cut into chunks by the project's own chunker (small chunks: several each)."""
    entries = []
    for filename, text in DOCUMENTS.items():
        document_id = _document_id(filename)
        for chunk in text_chunk(text, size=120, overlap=30):
            entries.append(CorpusEntry(chunk_id=f"{document_id}:{chunk.index}", document_id=document_id,
                                       filename=filename, text=chunk.text, index=chunk.index, page=chunk.page))
    return entries


@pytest.fixture(scope="module")
def index() -> Bm25Index:
    return bm25_index_build(_entries())


def test_the_corpus_has_several_chunks_per_document(index):
    assert len(DOCUMENTS) == 30
    chunks_per_document = [sum(e.document_id == d for e in index.entries) for d in index.document_ids]
    assert max(chunks_per_document) >= 2
    assert index.chunk_count > len(DOCUMENTS)
    assert index.document_ids == {_document_id(f) for f in DOCUMENTS}


def test_the_document_that_answers_ranks_first(index):
    failures = []
    for question, filename in QUESTIONS:
        hits = index.search(question, top_k=5)
        first = hits[0].filename if hits else None
        if first != filename:
            failures.append(f"{question!r}: expected {filename}, got {[h.filename for h in hits]}")
    print(f"\nright document first: {len(QUESTIONS) - len(failures)}/{len(QUESTIONS)}")
    assert len(failures) <= 1, "\n".join(failures)


def test_hits_are_positive_ordered_and_carry_their_chunk(index):
    by_id = {e.chunk_id: e for e in _entries()}
    hits = index.search("The Zephyr project budget and the Meridian project", top_k=4)
    assert 1 < len(hits) <= 4
    assert all(isinstance(h, Hit) and h.score > 0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for hit in hits:
        entry = by_id[hit.chunk_id]
        assert (hit.document_id, hit.filename, hit.text, hit.index, hit.page) == (
            entry.document_id, entry.filename, entry.text, entry.index, entry.page)
    assert {h.filename for h in hits} == {"zephyr.txt", "meridian.txt"}


def test_top_k_is_honoured(index):
    assert len(index.search("project", top_k=1)) == 1
    assert len(index.search("the Zephyr project budget", top_k=20)) <= 20
    with pytest.raises(ValueError, match="top_k"):
        index.search("project", top_k=0)


def test_stop_words_and_stems():
    index = bm25_index_build([
        CorpusEntry("a:0", "a", "a.txt", "What is the answer? It is there, and it was this.", 0),
        CorpusEntry("b:0", "b", "b.txt", "The committee approved the budgets.", 0),
    ])
    # Nothing but stop words: no term to match, even though chunk a is made of them.
    assert index.search("What is the, and what was it?", top_k=3) == []
    # "approving budget" and "approved the budgets" share their stems.
    assert [h.chunk_id for h in index.search("approving a budget", top_k=3)] == ["b:0"]


def test_a_question_about_nothing_in_the_corpus_finds_nothing(index):
    assert index.search("What will the weather be like on Jupiter tomorrow?", top_k=5) == []
    assert index.search("   ", top_k=5) == []
    assert index.search("?!", top_k=5) == []


def test_document_ids_restrict_the_search(index):
    question = "What is the Zephyr project budget?"
    assert index.search(question, top_k=1)[0].filename == "zephyr.txt"
    # Only Meridian's chunks: the best of those comes back, even with top_k=1 and Zephyr's chunks
    # scoring higher in the corpus as a whole.
    hits = index.search(question, top_k=1, document_ids={_document_id("meridian.txt")})
    assert [h.filename for h in hits] == ["meridian.txt"]
    hits = index.search(question, top_k=10, document_ids={_document_id("meridian.txt"), _document_id("atlas.txt")})
    assert hits
    assert {h.filename for h in hits} == {"meridian.txt"}  # Atlas's chunks do not match
    assert index.search(question, top_k=5, document_ids={_document_id("atlas.txt")}) == []
    assert index.search(question, top_k=5, document_ids=set()) == []
    assert index.search(question, top_k=5, document_ids={"no-such-document"}) == []
    everything = index.search(question, top_k=50, document_ids=frozenset(index.document_ids))
    assert everything == index.search(question, top_k=50)


def test_equal_scores_keep_the_chunks_order():
    text = "Quarterly revenue of the Delta division rose by nine percent."
    entries = [CorpusEntry(f"{d}:0", d, f"{d}.txt", text, 0) for d in ("d1", "d2", "d3")]
    entries.append(CorpusEntry("other:0", "other", "other.txt", "Nothing about money here.", 0))
    forward = bm25_index_build(entries).search("Delta revenue", top_k=2)
    assert [h.chunk_id for h in forward] == ["d1:0", "d2:0"]
    assert forward[0].score == forward[1].score
    backward = bm25_index_build([entries[3], entries[2], entries[1], entries[0]]).search("Delta revenue", top_k=3)
    assert [h.chunk_id for h in backward] == ["d3:0", "d2:0", "d1:0"]


def test_the_same_chunks_give_the_same_index(index):
    again = bm25_index_build(_entries())
    assert again.to_bytes() == index.to_bytes()
    for question, _ in QUESTIONS:
        assert again.search(question, top_k=5) == index.search(question, top_k=5)


def test_scores_are_the_librarys(index):
    """Bm25Index scores what bm25s's own tokenize + index + retrieve scores."""
    entries = _entries()
    model = bm25s.BM25()
    stopwords = bm25s.stopwords.STOPWORDS_EN_PLUS
    stemmer = Stemmer.Stemmer("english")
    model.index(bm25s.tokenize([e.text for e in entries], stopwords=stopwords, stemmer=stemmer,
                               show_progress=False), show_progress=False)
    for question, _ in QUESTIONS:
        rows, scores = model.retrieve(bm25s.tokenize([question], stopwords=stopwords, stemmer=stemmer,
                                                     show_progress=False), k=3, show_progress=False)
        hits = index.search(question, top_k=3)
        assert [h.score for h in hits] == pytest.approx(scores[0].tolist()[:len(hits)], rel=1e-6)
        assert hits[0].chunk_id == entries[rows[0][0]].chunk_id


def test_round_trip_through_bytes(index):
    blob = index.to_bytes()
    assert isinstance(blob, bytes)
    loaded = bm25_index_load(blob)
    assert loaded.entries == index.entries
    questions = [q for q, _ in QUESTIONS] + ["solar panels for schools", "Jupiter"]
    for question in questions:
        assert loaded.search(question, top_k=5) == index.search(question, top_k=5)
        allowed = {_document_id("meridian.txt"), _document_id("solar.txt")}
        assert loaded.search(question, top_k=2, document_ids=allowed) == index.search(
            question, top_k=2, document_ids=allowed)
    assert loaded.to_bytes() == blob


def test_the_blob_holds_no_pickle_and_everything_a_search_needs(index):
    with zipfile.ZipFile(io.BytesIO(index.to_bytes())) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("eva-index.json"))
        corpus = archive.read("corpus.jsonl").decode()
    assert {"eva-index.json", "corpus.jsonl", "vocab.index.json", "params.index.json",
            "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"} <= names
    assert manifest["version"] == INDEX_FORMAT_VERSION
    assert manifest["chunk_count"] == index.chunk_count
    assert "The Zephyr project budget is 4.2 million euros." in corpus


def _blob_with(blob: bytes, replaced: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as source, zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            target.writestr(name, replaced.pop(name, None) or source.read(name))
        for name, data in replaced.items():
            target.writestr(name, data)
    return buffer.getvalue()


def test_an_unknown_format_version_is_refused(index):
    blob = index.to_bytes()
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        manifest = json.loads(archive.read("eva-index.json"))
    manifest["version"] = INDEX_FORMAT_VERSION + 1
    newer = _blob_with(blob, {"eva-index.json": json.dumps(manifest).encode()})
    with pytest.raises(IndexFormatError, match=f"format version {INDEX_FORMAT_VERSION + 1}"):
        bm25_index_load(newer)


@pytest.mark.parametrize("data", [b"", b"not an index", b"PK\x03\x04garbage"])
def test_bytes_that_are_no_index_are_refused(data):
    with pytest.raises(IndexFormatError):
        bm25_index_load(data)


def test_a_blob_without_manifest_or_with_a_path_is_refused(index):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("corpus.jsonl", "")
    with pytest.raises(IndexFormatError, match=r"no eva-index\.json"):
        bm25_index_load(buffer.getvalue())
    escaping = _blob_with(index.to_bytes(), {"../outside.json": b"{}"})
    with pytest.raises(IndexFormatError, match="unexpected member"):
        bm25_index_load(escaping)


def test_a_damaged_blob_is_refused(index):
    damaged = _blob_with(index.to_bytes(), {"corpus.jsonl": b'["only one chunk"]\n'})
    with pytest.raises(IndexFormatError, match="damaged"):
        bm25_index_load(damaged)


def test_an_empty_corpus_is_a_valid_index():
    empty = bm25_index_build([])
    assert isinstance(empty, Retriever)
    assert empty.chunk_count == 0
    assert empty.search("anything at all", top_k=5) == []
    assert empty.search("anything", top_k=5, document_ids={"x"}) == []
    loaded = bm25_index_load(empty.to_bytes())
    assert loaded.chunk_count == 0
    assert loaded.search("anything at all", top_k=5) == []


def test_chunks_without_a_word_index_as_nothing_and_round_trip():
    index = bm25_index_build([{"chunk_id": "a:0", "document_id": "a", "filename": "a.csv", "text": "1 | 2 | ?",
                               "index": 0, "page": None}])
    assert index.search("what is 1", top_k=3) == []
    loaded = bm25_index_load(index.to_bytes())
    assert loaded.entries == index.entries
    assert loaded.search("anything", top_k=3) == []


def test_entries_may_be_mappings_and_chunk_ids_unique():
    entry = {"chunk_id": "a:0", "document_id": "a", "filename": "a.pdf", "text": "Page two talks of whales.",
             "index": 0, "page": 2}
    hits = bm25_index_build([entry]).search("whale", top_k=1)
    assert [(h.chunk_id, h.page, h.index) for h in hits] == [("a:0", 2, 0)]
    with pytest.raises(ValueError, match="twice"):
        bm25_index_build([entry, entry])
    with pytest.raises(ValueError, match="lacks text"):
        bm25_index_build([{k: v for k, v in entry.items() if k != "text"}])


def test_the_index_is_a_retriever(index):
    assert isinstance(index, Retriever)


def test_the_baseline_measures_the_library_alone():
    entries = _entries()
    baseline = bm25_baseline_seconds(entries, [q for q, _ in QUESTIONS], top_k=5)
    assert len(baseline.search_seconds) == len(QUESTIONS)
    print(f"\nbm25s alone: index {baseline.index_seconds * 1000:.2f} ms for {len(entries)} chunks, "
          f"search {max(baseline.search_seconds) * 1000:.3f} ms at most per question")
