"""Answer providers: the extractive one on real passages, and the Azure OpenAI client against a
local server that speaks the chat-completions API (tests/spaces/openai_server.py)."""

import socket
import time
from dataclasses import dataclass, replace

import bm25s
import pytest
import Stemmer
from django.core.exceptions import ImproperlyConfigured

from spaces.queries.answers import (
    NOT_FOUND_ANSWER,
    SNIPPET_MAX_CHARS,
    SYSTEM_INSTRUCTION,
    AnswerFailed,
    AzureOpenAIProvider,
    ExtractiveProvider,
    Passage,
    answer_provider,
    sentences_of,
)
from tests.spaces.openai_server import API_KEY, API_VERSION, DEPLOYMENT, MODEL, OpenAIServer, Reply, rate_limited

WARRANTY = Passage(
    chunk_id="chunk-warranty",
    document_id="doc-x200",
    filename="x200-manual.pdf",
    text=(
        "X200 Owner's Manual\n"
        "The X200 warranty lasts 24 months from the date of purchase. It covers parts and labour,\n"
        "but not damage caused by water. Register the device online to extend it."
    ),
    score=7.4,
)
X300_WARRANTY = Passage(
    chunk_id="chunk-x300",
    document_id="doc-x300",
    filename="x300-datasheet.docx",
    text="The X300 weighs 4.2 kg. Its warranty is 12 months, extendable to 36 for business customers.",
    score=4.1,
)
SHIPPING = Passage(
    chunk_id="chunk-shipping",
    document_id="doc-shipping",
    filename="shipping-policy.txt",
    text=(
        "Shipping\n\nOrders placed before 2 p.m. ship the same day from our warehouse in Lyon. "
        "Delivery within France takes two to three working days."
    ),
    score=2.2,
)
OFFICES = Passage(
    chunk_id="chunk-offices",
    document_id="doc-company",
    filename="company.md",
    text=(
        "# Company\n\nAcme Devices was founded in 2009 by Claire Martin. The head office is in Grenoble; "
        "the support team works from Montreal."
    ),
    score=1.3,
)
CORPUS = [WARRANTY, X300_WARRANTY, SHIPPING, OFFICES]


@pytest.fixture
def extractive(settings):
    settings.EVA_ANSWER_PROVIDER = "extractive"
    return answer_provider()


# --- extractive ---------------------------------------------------------------------------------


def test_extractive_answers_with_the_sentence_that_holds_the_answer_and_cites_its_passage(extractive):
    answer = extractive.answer("How long is the X200 warranty?", CORPUS)

    assert answer.answer.startswith("The X200 warranty lasts 24 months from the date of purchase. [1]")
    assert answer.citations[0].chunk_id == "chunk-warranty"
    assert {c.document_id for c in answer.citations} == {"doc-x200"}
    citation = answer.citations[0]
    assert (citation.filename, citation.score) == ("x200-manual.pdf", 7.4)
    assert citation.snippet.startswith("The X200 warranty lasts 24 months")
    assert (answer.provider, answer.model, answer.usage) == ("extractive", None, None)
    assert answer.generation_ms >= 0


@pytest.mark.parametrize(
    ("question", "document_id", "words"),
    [
        ("Where is the head office?", "doc-company", "The head office is in Grenoble"),
        ("Who founded Acme Devices?", "doc-company", "founded in 2009 by Claire Martin"),
        ("How many days does delivery within France take?", "doc-shipping", "two to three working days"),
        ("How much does the X300 weigh?", "doc-x300", "The X300 weighs 4.2 kg."),
        ("Does the warranty cover water damage?", "doc-x200", "not damage caused by water"),
    ],
)
def test_extractive_cites_the_document_that_holds_the_answer_and_not_the_others(
    extractive, question, document_id, words
):
    answer = extractive.answer(question, _retrieved(question, CORPUS))

    assert words in answer.answer.split(" [")[0]
    assert {c.document_id for c in answer.citations} == {document_id}


def test_extractive_keeps_at_most_three_sentences_and_one_citation_per_chunk(extractive):
    passage = Passage(
        "chunk-1", "doc-1", "notes.txt",
        "The X200 battery lasts ten hours. The X200 battery charges in two hours. "
        "The X200 battery is replaceable. The X200 battery is made in Korea. The X200 battery weighs 90 g.",
        1.0,
    )

    answer = extractive.answer("X200 battery", [passage])

    assert answer.answer.count("[1]") == 3
    assert "[2]" not in answer.answer
    assert [c.chunk_id for c in answer.citations] == ["chunk-1"]
    assert answer.citations[0].snippet == answer.answer.replace(" [1]", "")


def test_extractive_leads_with_the_best_sentence_and_numbers_citations_in_that_order(extractive):
    first = Passage("chunk-a", "doc-a", "a.txt", "The K7 ships with a charger and a protective case.", 2.0)
    second = Passage("chunk-b", "doc-b", "b.txt", "The K7 ships with a charger.", 2.0)

    answer = extractive.answer("What does the K7 ship with?", [first, second])

    assert answer.answer == "The K7 ships with a charger. [1] The K7 ships with a charger and a protective case. [2]"
    assert [c.chunk_id for c in answer.citations] == ["chunk-b", "chunk-a"]


def test_extractive_says_so_when_no_sentence_matches(extractive):
    answer = extractive.answer("What is the capital of Peru?", CORPUS)

    assert answer.answer == NOT_FOUND_ANSWER
    assert answer.citations == []


def test_extractive_says_so_without_passages(extractive):
    answer = extractive.answer("How long is the X200 warranty?", [])

    assert (answer.answer, answer.citations) == (NOT_FOUND_ANSWER, [])


def test_extractive_says_so_for_a_question_of_stop_words_only(extractive):
    answer = extractive.answer("What is it, and where?", CORPUS)

    assert (answer.answer, answer.citations) == (NOT_FOUND_ANSWER, [])


def test_extractive_cuts_long_sentences_and_snippets(extractive):
    long_sentence = "The calibration procedure " + "requires a steady hand and patience " * 30 + "."
    passage = Passage("chunk-long", "doc-long", "long.txt", long_sentence, 1.0)

    answer = extractive.answer("calibration procedure", [passage])

    assert len(answer.citations[0].snippet) <= SNIPPET_MAX_CHARS
    assert answer.citations[0].snippet.endswith("…")
    assert answer.answer.startswith("The calibration procedure requires")


def test_extractive_accepts_any_hit_with_the_passage_fields(extractive):
    @dataclass
    class Hit:  # what a retriever returns: the passage fields and more
        chunk_id: str
        document_id: str
        filename: str
        text: str
        score: float
        position: int

    hit = Hit("chunk-9", "doc-9", "faq.md", "Refunds are paid within 14 days of the return.", 0.8, 3)

    answer = extractive.answer("When are refunds paid?", [hit])

    assert answer.citations[0].chunk_id == "chunk-9"


def _retrieved(question: str, passages: list[Passage]) -> list[Passage]:
    """The passages as a BM25 retriever over them returns them: best first, with its scores."""
    stemmer = Stemmer.Stemmer("english")
    index = bm25s.BM25()
    index.index(bm25s.tokenize([p.text for p in passages], stemmer=stemmer, show_progress=False),
                show_progress=False)
    query = bm25s.tokenize(question, stemmer=stemmer, return_ids=False, show_progress=False)[0]
    scores = index.get_scores([token for token in query if token in index.vocab_dict])
    ranked = sorted(zip(scores, passages, strict=True), key=lambda pair: -pair[0])
    return [replace(passage, score=float(score)) for score, passage in ranked if score > 0]


def test_sentences_join_wrapped_lines_and_keep_abbreviations():
    text = (
        "Heading\n"
        "The device is sold by Dr. Smith's shop\nin Lyon. It costs approx. 120 EUR!\n\n"
        'She said "it works." Then she left.\n'
        "name,price,stock\nX200,120 EUR,14"
    )

    assert sentences_of(text) == [
        "The device is sold by Dr. Smith's shop in Lyon.",
        "It costs approx. 120 EUR!",
        'She said "it works."',
        "Then she left.",
        "name,price,stock",
        "X200,120 EUR,14",
    ]


# --- choosing the provider ----------------------------------------------------------------------


def test_the_provider_is_built_once_and_again_only_when_its_settings_change(settings, openai_server):
    settings.EVA_ANSWER_PROVIDER = "extractive"
    extractive = answer_provider()
    assert isinstance(extractive, ExtractiveProvider)
    assert answer_provider() is extractive

    _azure_settings(settings, openai_server)
    azure = answer_provider()
    assert isinstance(azure, AzureOpenAIProvider)
    assert answer_provider() is azure
    assert answer_provider()._client is azure._client

    settings.AZURE_OPENAI_TIMEOUT_SECONDS = 7.0
    rebuilt = answer_provider()
    assert rebuilt is not azure
    assert rebuilt._client.timeout == 7.0


def test_an_unknown_provider_is_refused(settings):
    settings.EVA_ANSWER_PROVIDER = "oracle"

    with pytest.raises(ImproperlyConfigured, match="EVA_ANSWER_PROVIDER"):
        answer_provider()


# --- azure_openai -------------------------------------------------------------------------------


@pytest.fixture
def openai_server():
    server = OpenAIServer().start()
    yield server
    server.stop()


def _azure_settings(settings, server, *, timeout=5.0, retries=1, api_key=API_KEY, endpoint=None):
    settings.EVA_ANSWER_PROVIDER = "azure_openai"
    settings.AZURE_OPENAI_ENDPOINT = endpoint or server.url
    settings.AZURE_OPENAI_DEPLOYMENT = DEPLOYMENT
    settings.AZURE_OPENAI_API_VERSION = API_VERSION
    settings.AZURE_OPENAI_API_KEY = api_key
    settings.AZURE_OPENAI_TIMEOUT_SECONDS = timeout
    settings.AZURE_OPENAI_MAX_RETRIES = retries


@pytest.fixture
def azure(settings, openai_server):
    _azure_settings(settings, openai_server)
    return openai_server


PASSAGES = [WARRANTY, SHIPPING]


def test_azure_answer_cites_the_passages_it_names(azure):
    azure.script(Reply("The X200 warranty lasts 24 months [1]. Orders ship the same day from Lyon [2]."))

    answer = answer_provider().answer("Warranty and shipping?", PASSAGES, temperature=0.2, max_tokens=300)

    assert answer.answer == "The X200 warranty lasts 24 months [1]. Orders ship the same day from Lyon [2]."
    assert [(c.chunk_id, c.document_id, c.filename, c.score) for c in answer.citations] == [
        ("chunk-warranty", "doc-x200", "x200-manual.pdf", 7.4),
        ("chunk-shipping", "doc-shipping", "shipping-policy.txt", 2.2),
    ]
    assert answer.citations[0].snippet.startswith("X200 Owner's Manual The X200 warranty lasts 24 months")
    assert all(len(c.snippet) <= SNIPPET_MAX_CHARS for c in answer.citations)
    assert (answer.provider, answer.model) == ("azure_openai", MODEL)
    assert set(answer.usage) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert answer.usage["total_tokens"] == answer.usage["prompt_tokens"] + answer.usage["completion_tokens"] > 0
    assert len(azure.received) == 1


def test_azure_request_carries_the_instruction_the_numbered_context_and_the_parameters(azure):
    answer_provider().answer("How long is the X200 warranty?", PASSAGES, temperature=0.2, max_tokens=300)

    [request] = azure.received
    assert request.path == f"/openai/deployments/{DEPLOYMENT}/chat/completions"
    assert request.query["api-version"] == [API_VERSION]
    assert request.headers["api-key"] == API_KEY
    body = request.body
    assert (body["model"], body["temperature"], body["max_tokens"]) == (DEPLOYMENT, 0.2, 300)
    system, user = body["messages"]
    assert system == {"role": "system", "content": SYSTEM_INSTRUCTION}
    assert "only the numbered context" in SYSTEM_INSTRUCTION
    assert "[1]" in SYSTEM_INSTRUCTION
    assert user["role"] == "user"
    assert f"[1] (from x200-manual.pdf)\n{WARRANTY.text}" in user["content"]
    assert f"[2] (from shipping-policy.txt)\n{SHIPPING.text}" in user["content"]
    assert "[3]" not in user["content"]
    assert user["content"].endswith("Question: How long is the X200 warranty?")


def test_azure_request_leaves_unset_parameters_to_the_model(azure):
    answer_provider().answer("How long is the X200 warranty?", PASSAGES)

    assert "temperature" not in azure.received[0].body
    assert "max_tokens" not in azure.received[0].body


def test_azure_drops_a_citation_of_a_passage_that_was_not_sent(azure):
    azure.script(Reply("Orders ship from Lyon [5]. The warranty lasts 24 months [1, 7]."))

    answer = answer_provider().answer("Warranty?", PASSAGES)

    assert answer.answer == "Orders ship from Lyon. The warranty lasts 24 months [1]."
    assert [c.chunk_id for c in answer.citations] == ["chunk-warranty"]


def test_azure_numbers_citations_in_the_order_of_the_answer(azure):
    azure.script(Reply("Orders ship from Lyon [2]. The warranty lasts 24 months [1][2]. Lyon again [2]."))

    answer = answer_provider().answer("Warranty?", PASSAGES)

    assert answer.answer == "Orders ship from Lyon [1]. The warranty lasts 24 months [2][1]. Lyon again [1]."
    assert [c.chunk_id for c in answer.citations] == ["chunk-shipping", "chunk-warranty"]


def test_azure_waits_as_retry_after_says_then_answers(azure):
    azure.script(rate_limited(retry_after="1"), Reply("The warranty lasts 24 months [1]."))

    answer = answer_provider().answer("Warranty?", PASSAGES)

    assert answer.answer == "The warranty lasts 24 months [1]."
    assert len(azure.received) == 2
    # The SDK's own back-off before a first retry is at most 0.5 s; a second means Retry-After.
    assert azure.received[1].at - azure.received[0].at >= 0.95


def test_azure_gives_up_on_a_slow_model_within_the_timeouts(settings, openai_server):
    timeout, retries = 0.5, 1
    _azure_settings(settings, openai_server, timeout=timeout, retries=retries)
    openai_server.script(Reply("Too late.", delay=10))

    started = time.monotonic()
    with pytest.raises(AnswerFailed) as failed:
        answer_provider().answer("Warranty?", PASSAGES)
    elapsed = time.monotonic() - started

    assert failed.value.reason == "The language model did not answer within 0.5 seconds."
    assert len(openai_server.received) == retries + 1
    # Each attempt waits `timeout`; between two, the SDK backs off at most 0.5 s (+ slack).
    assert timeout * (retries + 1) <= elapsed < timeout * (retries + 1) + 0.5 * retries + 1.0


def test_azure_fails_when_the_model_errs_every_time(azure):
    azure.script(Reply(status=500))

    with pytest.raises(AnswerFailed, match=r"^The language model failed \(HTTP 500\)\.$"):
        answer_provider().answer("Warranty?", PASSAGES)

    assert len(azure.received) == 2  # the first attempt and one retry


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (400, "content_filter", "The language model's content filter refused the question or its context."),
        (400, "context_length_exceeded", "The question and its passages are too long for the language model."),
        (400, "invalid_value", "The language model rejected the request (HTTP 400)."),
        (422, "invalid", "The language model rejected the request (HTTP 422)."),
    ],
)
def test_azure_fails_at_once_on_a_refused_request(azure, status, code, reason):
    azure.script(Reply(status=status, error_code=code))

    with pytest.raises(AnswerFailed) as failed:
        answer_provider().answer("Warranty?", PASSAGES)

    assert failed.value.reason == reason
    assert len(azure.received) == 1


def test_azure_fails_at_once_on_refused_credentials(settings, openai_server):
    _azure_settings(settings, openai_server, api_key="wrong-key")

    with pytest.raises(AnswerFailed, match="refused this service's credentials"):
        answer_provider().answer("Warranty?", PASSAGES)

    assert len(openai_server.received) == 1  # a 401 is not retried


def test_azure_fails_on_an_unknown_deployment(settings, openai_server):
    _azure_settings(settings, openai_server)
    settings.AZURE_OPENAI_DEPLOYMENT = "missing"

    with pytest.raises(AnswerFailed, match="deployment 'missing' was not found"):
        answer_provider().answer("Warranty?", PASSAGES)


def test_azure_fails_when_the_model_cannot_be_reached(settings, openai_server):
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _azure_settings(settings, openai_server, retries=0, endpoint=f"http://127.0.0.1:{port}/")

    with pytest.raises(AnswerFailed, match=r"^The language model could not be reached\.$"):
        answer_provider().answer("Warranty?", PASSAGES)


def test_azure_fails_on_an_empty_answer(azure):
    azure.script(Reply(content=""))

    with pytest.raises(AnswerFailed, match=r"^The language model returned an empty answer\.$"):
        answer_provider().answer("Warranty?", PASSAGES)


def test_azure_fails_when_the_content_filter_withholds_the_answer(azure):
    azure.script(Reply(content=None, finish_reason="content_filter"))

    with pytest.raises(AnswerFailed, match="content filter"):
        answer_provider().answer("Warranty?", PASSAGES)


def test_azure_says_so_without_passages_and_without_a_call(azure):
    answer = answer_provider().answer("Warranty?", [])

    assert (answer.answer, answer.citations, answer.provider) == (NOT_FOUND_ANSWER, [], "azure_openai")
    assert azure.received == []
