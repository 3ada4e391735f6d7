"""Answer providers: a question and the passages retrieval found for it in, a cited answer out.

Two providers, chosen by `EVA_ANSWER_PROVIDER`:

- `extractive` (the default, no external service): the sentences of the passages that best match
  the question, scored by BM25 (bm25s, stemmed, English stop words), each followed by the number
  of its citation. When nothing matches, the answer says so: it never guesses.
- `azure_openai`: a chat completion through the openai SDK's `AzureOpenAI` client, the passages
  sent as numbered context. The SDK retries timeouts, connection errors, 429 and 5xx itself,
  waiting as `Retry-After` says (openai/_base_client.py: `_should_retry`, `_calculate_retry_timeout`).

In both, `[n]` in the answer refers to `citations[n - 1]`. A provider's failure raises
`AnswerFailed`, whose message is fit to show the user.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

NOT_FOUND_ANSWER = "I could not find anything about that in this space's documents."
SNIPPET_MAX_CHARS = 300
ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"


class PassageLike(Protocol):
    """What a provider reads from a retrieval hit."""

    @property
    def chunk_id(self) -> str: ...
    @property
    def document_id(self) -> str: ...
    @property
    def filename(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def score(self) -> float: ...


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, as the providers see it; `score` is the retriever's (higher is better)."""

    chunk_id: str
    document_id: str
    filename: str
    text: str
    score: float


@dataclass(frozen=True)
class Citation:
    document_id: str
    filename: str
    chunk_id: str
    snippet: str  # at most SNIPPET_MAX_CHARS
    score: float  # the retriever's score of the chunk


@dataclass(frozen=True)
class Answer:
    answer: str
    citations: list[Citation]
    provider: str
    model: str | None
    usage: dict | None  # {prompt_tokens, completion_tokens, total_tokens}; None without a model
    generation_ms: float


class AnswerFailed(Exception):
    """The provider could not answer; `reason` (also `str(exc)`) is meant for the user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Generated:
    answer: str
    citations: list[Citation]
    model: str | None = None
    usage: dict | None = None


_NOT_FOUND = _Generated(NOT_FOUND_ANSWER, [])


class AnswerProvider(ABC):
    """Answers a question from passages only. Thread-safe: one instance serves a whole process."""

    name: str

    def answer(
        self,
        question: str,
        passages: Sequence[PassageLike],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> Answer:
        """The answer with its citations; raises AnswerFailed. `temperature` and `max_tokens` are
        the query's parameters (None: the provider's default); a provider without a model ignores them."""
        started = time.perf_counter()
        generated = self._generate(question, list(passages), temperature=temperature, max_tokens=max_tokens)
        return Answer(
            answer=generated.answer,
            citations=generated.citations,
            provider=self.name,
            model=generated.model,
            usage=generated.usage,
            generation_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    @abstractmethod
    def _generate(
        self, question: str, passages: list[PassageLike], *, temperature: float | None, max_tokens: int | None
    ) -> _Generated: ...

    @abstractmethod
    def close(self) -> None:
        """Releases what the provider holds (connections); called when settings replace it."""


def _shorten(text: str, limit: int = SNIPPET_MAX_CHARS) -> str:
    """`text` on one line, cut at a word boundary to at most `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"


def _citation(passage: PassageLike, snippet: str) -> Citation:
    return Citation(
        document_id=passage.document_id,
        filename=passage.filename,
        chunk_id=passage.chunk_id,
        snippet=_shorten(snippet),
        score=float(passage.score),
    )


# --- extractive ---------------------------------------------------------------------------------

# A line break ends a sentence unless it only wraps one: the line before has no closing
# punctuation and the next goes on in lower case (PDF and hard-wrapped text).
_LINE_BREAK = re.compile(r"\s*\n\s*")
_WRAPPED = re.compile(r"[^.!?:;]\s*\n\s*[a-z(]")
# Abbreviations that a capital or a number usually follows: no sentence ends there.
_ABBREVIATIONS = ("Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "St.", "Jr.", "Sr.", "No.", "Fig.", "Inc.", "Ltd.", "Co.",
                  "approx.", "Approx.", "e.g.", "i.e.", "vs.", "cf.")
# A sentence ends at . ! or ? (a closing quote or bracket after it stays with it) before a capital or digit.
_CLOSER = "[\"'\u201d\u2019)\\]]"
_SENTENCE_END = re.compile(
    rf"(?:(?<=[.!?])|(?<=[.!?]{_CLOSER})|(?<=[.!?]{_CLOSER}{_CLOSER}))"
    + "".join(rf"(?<!\b{re.escape(abbreviation)})" for abbreviation in _ABBREVIATIONS)
    + r"\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])"
)
_WORD = re.compile(r"\w+")
# Shorter fragments (headings, labels) are no answer on their own.
SENTENCE_MIN_WORDS = 3
# A sentence kept in an answer, at most; longer ones (a table row, a run-on line) are cut.
SENTENCE_MAX_CHARS = 500
# Sentences in an answer, at most; besides the best, only those scoring at least this share of
# it, so that a strong answer is not padded with passing mentions from other documents.
ANSWER_MAX_SENTENCES = 3
ANSWER_RELATIVE_FLOOR = 0.75
# NLTK's English list: it holds question words (what, when, how, ...), which a question has and
# an answering sentence usually has not. bm25s' "en" list is Lucene's 33 words and keeps them.
_STOPWORDS = "en_plus"


def sentences_of(text: str) -> list[str]:
    """The sentences of a chunk, in order, whitespace collapsed. A piece of fewer than
    SENTENCE_MIN_WORDS words joins its neighbour on the same line; alone on its line (a heading,
    a label), it is dropped."""
    lines: list[str] = []
    position = 0
    for match in _LINE_BREAK.finditer(text):
        if match.start() > 0 and _WRAPPED.match(text, match.start() - 1):
            continue
        lines.append(text[position : match.start()])
        position = match.end()
    lines.append(text[position:])
    sentences = []
    for line in lines:
        of_line: list[str] = []
        pending = ""  # a short piece ("Dr.", "approx.") goes on with the next one of its line
        for piece in _SENTENCE_END.split(" ".join(line.split())):
            pending = f"{pending} {piece}" if pending else piece
            if len(_WORD.findall(pending)) >= SENTENCE_MIN_WORDS:
                of_line.append(pending)
                pending = ""
        if pending and of_line:  # a short piece that ends the line ends its last sentence
            of_line[-1] = f"{of_line[-1]} {pending}"
        sentences.extend(of_line)
    return sentences


@dataclass(frozen=True)
class _Sentence:
    passage_rank: int  # position of its passage in the retriever's order
    position: int  # within the passage
    text: str


class _Bm25Scorer:
    """Scores sentences against a question with bm25s (PyStemmer's English stemmer, English stop words).

    The IDF comes from the sentences being scored, so a word every passage shares counts little."""

    def __init__(self):
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer_class = Stemmer.Stemmer
        self._local = threading.local()  # PyStemmer's stemmers are not thread-safe

    def _tokens(self, texts: list[str]) -> list[list[str]]:
        stemmer = getattr(self._local, "stemmer", None)
        if stemmer is None:
            stemmer = self._local.stemmer = self._stemmer_class("english")
        return self._bm25s.tokenize(
            texts, stopwords=_STOPWORDS, stemmer=stemmer, return_ids=False, show_progress=False
        )

    def scores(self, question: str, sentences: list[str]) -> list[float]:
        question_tokens = self._tokens([question])[0]
        if not question_tokens or not sentences:
            return [0.0] * len(sentences)
        index = self._bm25s.BM25()
        index.index(self._tokens(sentences), show_progress=False)
        known = [token for token in question_tokens if token in index.vocab_dict]
        if not known:
            return [0.0] * len(sentences)
        return [float(score) for score in index.get_scores(known)]


class ExtractiveProvider(AnswerProvider):
    """The passages' best-matching sentences, each followed by its citation number."""

    name = "extractive"

    def __init__(self):
        self._scorer = _Bm25Scorer()

    def close(self) -> None:
        pass  # holds no connection

    def _generate(
        self, question: str, passages: list[PassageLike], *, temperature: float | None, max_tokens: int | None
    ) -> _Generated:
        sentences: list[_Sentence] = []
        seen: set[str] = set()
        for rank, passage in enumerate(passages):
            for position, text in enumerate(sentences_of(passage.text)):
                key = text.casefold()
                if key not in seen:  # overlapping chunks repeat sentences; the better-ranked chunk keeps it
                    seen.add(key)
                    sentences.append(_Sentence(rank, position, text))
        if not sentences:
            return _NOT_FOUND
        bm25 = self._scorer.scores(question, [sentence.text for sentence in sentences])
        weights = self._passage_weights(passages)
        scored = sorted(
            ((score * weights[s.passage_rank], s) for score, s in zip(bm25, sentences, strict=True) if score > 0),
            key=lambda pair: (-pair[0], pair[1].passage_rank, pair[1].position),
        )
        if not scored:
            return _NOT_FOUND
        best = scored[0][0]
        chosen = [(score, s) for score, s in scored[:ANSWER_MAX_SENTENCES] if score >= best * ANSWER_RELATIVE_FLOOR]
        return self._compose(passages, chosen)

    @staticmethod
    def _passage_weights(passages: list[PassageLike]) -> list[float]:
        """From 0.5 to 1, by the passage's retrieval score relative to the best: the retriever saw
        the whole space (how rare each word is there), which scoring the sentences of a few
        passages against each other cannot; the sentence's own match still counts most."""
        top = max((float(p.score) for p in passages), default=0.0)
        if top <= 0:
            return [1.0] * len(passages)
        return [0.5 + 0.5 * max(float(p.score), 0.0) / top for p in passages]

    @staticmethod
    def _compose(passages: list[PassageLike], chosen: list[tuple[float, _Sentence]]) -> _Generated:
        """Sentences grouped by passage (the passage of the best sentence first), in reading order
        within a passage, each followed by [n]; one citation per passage."""
        group_order: list[int] = []
        for _, sentence in chosen:
            if sentence.passage_rank not in group_order:
                group_order.append(sentence.passage_rank)
        parts: list[str] = []
        citations: list[Citation] = []
        for number, rank in enumerate(group_order, start=1):
            texts = [s.text for _, s in sorted(chosen, key=lambda pair: pair[1].position) if s.passage_rank == rank]
            parts.extend(f"{_shorten(text, SENTENCE_MAX_CHARS)} [{number}]" for text in texts)
            citations.append(_citation(passages[rank], " ".join(texts)))
        return _Generated(" ".join(parts), citations)


# --- azure_openai -------------------------------------------------------------------------------

SYSTEM_INSTRUCTION = (
    "You answer questions about a user's documents using only the numbered context passages "
    "given with the question. Do not use any other knowledge. After each statement, cite the "
    "passage or passages it comes from with their numbers in square brackets, like [1] or [2][3]. "
    "If the context does not contain the answer, say that you could not find it in the "
    "documents, and do not guess."
)
_CITATION_MARK = re.compile(r"(?P<space>\s?)\[(?P<numbers>\d+(?:\s*,\s*\d+)*)\]")


def context_message(question: str, passages: Sequence[PassageLike]) -> str:
    """The user message: the passages numbered [1]..[k] with their file names, then the question."""
    blocks = [f"[{number}] (from {p.filename})\n{p.text.strip()}" for number, p in enumerate(passages, start=1)]
    return "Context:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question.strip()}"


def citations_resolve(text: str, passages: Sequence[PassageLike]) -> tuple[str, list[Citation]]:
    """The answer with its [n] marks renumbered to the citations they become, and those citations.

    A mark naming no passage that was sent is dropped (its words stay); the same chunk cited
    twice is one citation."""
    citations: list[Citation] = []
    number_of_chunk: dict[str, int] = {}

    def renumber(match: re.Match) -> str:
        numbers: list[int] = []
        for raw in match["numbers"].split(","):
            sent = int(raw)
            if not 1 <= sent <= len(passages):
                continue
            passage = passages[sent - 1]
            if passage.chunk_id not in number_of_chunk:
                citations.append(_citation(passage, passage.text))
                number_of_chunk[passage.chunk_id] = len(citations)
            if number_of_chunk[passage.chunk_id] not in numbers:
                numbers.append(number_of_chunk[passage.chunk_id])
        if not numbers:
            return ""  # the mark and the space before it go; the words stay
        return match["space"] + "".join(f"[{n}]" for n in numbers)

    return _CITATION_MARK.sub(renumber, text).strip(), citations


class AzureOpenAIProvider(AnswerProvider):
    """A chat completion on an Azure OpenAI deployment; one client (and connection pool) per process."""

    name = "azure_openai"

    def __init__(
        self,
        *,
        endpoint: str,
        deployment: str,
        api_version: str,
        api_key: str,
        timeout_seconds: float,
        max_retries: int,
    ):
        from openai import AzureOpenAI

        if not (endpoint and deployment):
            raise ImproperlyConfigured("EVA_ANSWER_PROVIDER=azure_openai needs AZURE_OPENAI_ENDPOINT and "
                                       "AZURE_OPENAI_DEPLOYMENT")
        if api_key:
            credentials = {"api_key": api_key}
        else:
            from azure.identity import DefaultAzureCredential, get_bearer_token_provider

            credentials = {"azure_ad_token_provider": get_bearer_token_provider(DefaultAzureCredential(), ENTRA_SCOPE)}
        self.deployment = deployment
        self.timeout_seconds = timeout_seconds
        self._client = AzureOpenAI(
            azure_endpoint=endpoint,
            api_version=api_version,
            timeout=timeout_seconds,
            max_retries=max_retries,
            **credentials,
        )

    def close(self) -> None:
        self._client.close()

    def _generate(
        self, question: str, passages: list[PassageLike], *, temperature: float | None, max_tokens: int | None
    ) -> _Generated:
        if not passages:
            return _NOT_FOUND  # nothing to answer from: no call, and no guess
        options = {}
        if temperature is not None:
            options["temperature"] = temperature
        if max_tokens is not None:
            options["max_tokens"] = max_tokens
        completion = self._complete(
            [
                {"role": "system", "content": SYSTEM_INSTRUCTION},
                {"role": "user", "content": context_message(question, passages)},
            ],
            options,
        )
        choice = completion.choices[0] if completion.choices else None
        if choice is not None and choice.finish_reason == "content_filter":
            raise AnswerFailed("The language model's content filter withheld the answer.")
        content = (choice.message.content or "").strip() if choice is not None else ""
        if not content:
            raise AnswerFailed("The language model returned an empty answer.")
        if choice.finish_reason == "length":
            logger.info("azure openai answer cut at max_tokens (%s)", max_tokens)
        answer, citations = citations_resolve(content, passages)
        usage = None
        if completion.usage is not None:
            usage = {
                "prompt_tokens": completion.usage.prompt_tokens,
                "completion_tokens": completion.usage.completion_tokens,
                "total_tokens": completion.usage.total_tokens,
            }
        return _Generated(answer, citations, model=completion.model or self.deployment, usage=usage)

    def _complete(self, messages: list[dict], options: dict):
        """The SDK's call (which retries), its failures turned into AnswerFailed."""
        import openai
        from azure.core.exceptions import ClientAuthenticationError

        try:
            return self._client.chat.completions.create(model=self.deployment, messages=messages, **options)
        except openai.APITimeoutError:
            reason = f"The language model did not answer within {self.timeout_seconds:g} seconds."
        except openai.APIConnectionError:
            reason = "The language model could not be reached."
        except openai.RateLimitError:
            reason = "The language model is receiving too many requests; try again later."
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            logger.warning("azure openai refused the credentials: %s (request %s)", exc.status_code, exc.request_id)
            reason = "The language model refused this service's credentials."
        except openai.NotFoundError:
            reason = f"The language model deployment {self.deployment!r} was not found."
        except openai.BadRequestError as exc:
            reason = {
                "content_filter": "The language model's content filter refused the question or its context.",
                "context_length_exceeded": "The question and its passages are too long for the language model.",
            }.get(exc.code or "", "The language model rejected the request (HTTP 400).")
            logger.warning("azure openai refused the request: %s %s", exc.code, exc.body)
        except openai.APIStatusError as exc:  # 5xx (and 408, 409) after the retries, or another 4xx
            verb = "failed" if exc.status_code >= 500 else "rejected the request"
            reason = f"The language model {verb} (HTTP {exc.status_code})."
            logger.warning("azure openai answered %s (request %s)", exc.status_code, exc.request_id)
        except openai.OpenAIError as exc:
            logger.warning("azure openai call failed: %r", exc)
            reason = "The language model's response could not be read."
        except ClientAuthenticationError as exc:  # DefaultAzureCredential found no identity, or it was refused
            logger.warning("no Entra ID token for azure openai: %s", exc)
            reason = "No Entra ID token could be obtained for the language model."
        raise AnswerFailed(reason)


# --- choosing the provider ----------------------------------------------------------------------

_PROVIDERS = {"extractive", "azure_openai"}
_lock = threading.Lock()
_built: tuple[tuple, AnswerProvider] | None = None


def _configuration() -> tuple:
    name = settings.EVA_ANSWER_PROVIDER
    if name == "azure_openai":
        return (
            name,
            settings.AZURE_OPENAI_ENDPOINT,
            settings.AZURE_OPENAI_DEPLOYMENT,
            settings.AZURE_OPENAI_API_VERSION,
            settings.AZURE_OPENAI_API_KEY,
            float(settings.AZURE_OPENAI_TIMEOUT_SECONDS),
            int(settings.AZURE_OPENAI_MAX_RETRIES),
        )
    return (name,)


def _build(configuration: tuple) -> AnswerProvider:
    name = configuration[0]
    if name == "extractive":
        return ExtractiveProvider()
    if name == "azure_openai":
        endpoint, deployment, api_version, api_key, timeout_seconds, max_retries = configuration[1:]
        return AzureOpenAIProvider(
            endpoint=endpoint,
            deployment=deployment,
            api_version=api_version,
            api_key=api_key,
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
        )
    raise ImproperlyConfigured(f"EVA_ANSWER_PROVIDER must be one of {sorted(_PROVIDERS)}, got {name!r}")


def answer_provider() -> AnswerProvider:
    """The provider the settings name, built once per process and rebuilt only when they change."""
    global _built
    configuration = _configuration()
    built = _built
    if built is not None and built[0] == configuration:
        return built[1]
    with _lock:
        if _built is None or _built[0] != configuration:
            previous = _built
            _built = (configuration, _build(configuration))
            if previous is not None:
                previous[1].close()
        return _built[1]
