"""The floor under bench/graphql.py's GraphQL report: the same report with no GraphQL at all.

EVA's application, served as the bench serves EVA (`evaapi.asgi:application`, with
DJANGO_SETTINGS_MODULE=bench.apps.report_floor_settings), with one more path: GET /bench/report.
It authenticates and rate limits the caller as /graphql does (the same functions, one request),
reads the report's data through the selectors the DataLoaders call (one crossing to the sync pool
for all four calls, where the loaders make one each), builds the `data` the GraphQL report
answers (the same object: the bench compares them) with plain dicts and returns it as JSON.

No executor can answer the report for less: this is its cost without one. The bench serves it
at the same connections as the GraphQL row, beside the goal."""

from django.http import JsonResponse
from django.urls import path

from documents.selectors import documents_by_id, documents_of_spaces
from evaapi.auth.authentication import credentials_of
from evaapi.auth.refusals import client_refusal_guard
from evaapi.auth.services.principals import principal_for
from evaapi.auth.throttling import principal_rate_limit
from evaapi.concurrency import run_sync
from evaapi.exceptions import NotAuthenticated, RateLimited, ServiceError
from evaapi.urls import urlpatterns as eva_urlpatterns
from spaces.queries.selectors import queries_of_spaces
from spaces.selectors import space_list

SPACES, DOCUMENTS, QUERIES = 50, 20, 5  # bench/graphql.py's NESTED: spaces(first: 50), documents(first: 20), ...


def report_data(tenant) -> dict:
    spaces, _ = space_list(tenant=tenant, limit=SPACES, continuation=None)
    ids = [space.id for space in spaces]
    documents = documents_of_spaces(tenant=tenant, space_ids=ids, limit=DOCUMENTS)
    runs = queries_of_spaces(tenant=tenant, space_ids=ids, limit=QUERIES)
    cited = documents_by_id(tenant=tenant, document_ids=[
        citation["document_id"] for page, _ in runs.values() for run in page for citation in run.result["citations"]])
    names = {space.id: space.name for space in spaces}

    def citation(document_id: str) -> dict:
        document = cited.get(document_id)
        return {"document": {"filename": document.filename} if document else None}

    return {"spaces": {"edges": [{"node": {
        "name": space.name,
        "documents": {
            "edges": [{"node": {"filename": document.filename, "space": {"name": names[document.space_id]}}}
                      for document in documents[space.id][0]],
            "pageInfo": {"hasNextPage": documents[space.id][1]},
        },
        "queryRuns": {"edges": [{"node": {
            "question": run.question,
            "result": {"citations": [citation(c["document_id"]) for c in run.result["citations"]]}
            if run.result is not None else None,
        }} for run in runs[space.id][0]]},
    }} for space in spaces]}}


def _admit(request):
    with client_refusal_guard(request.client_ip):
        raw = credentials_of(request)
        if raw is None:
            raise NotAuthenticated("Authentication credentials were not provided.")
        principal = principal_for(credentials=raw)
    result = principal_rate_limit(principal)
    if result is not None and not result.allowed:
        raise RateLimited("Rate limit exceeded; see Retry-After.", retry_after=result.retry_after)
    return principal


async def report(request):
    try:
        principal = await run_sync(_admit, request)
    except ServiceError as exc:
        return JsonResponse({"errors": [{"message": exc.message}]}, status=exc.status)
    return JsonResponse({"data": await run_sync(report_data, principal.tenant)})


urlpatterns = [path("bench/report", report), *eva_urlpatterns]
