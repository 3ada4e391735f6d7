"""Queries end to end with a real rq worker, on both deployments: questions answered from, and
citing, the document that holds the answer; answers that say so when nothing matches; cancel,
425, quotas, time limits, tenant walls; the retrieval index built once and loaded, not rebuilt,
by a worker that did not build it."""

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from spaces.queries import indexes
from spaces.queries.services import queries_recover_sweep, query_run
from tests.documents.files import docx_with_paragraphs_and_table, pdf_with_text
from tests.factories import api_key_make, client_for, tenant_make
from tests.workers import rq_burst

pytestmark = pytest.mark.django_db

# 32 documents of mixed types, each holding facts no other holds. (file name, content, facts)
FACTS = [
    ("zephyr.txt", "The Zephyr project has a budget of 4.2 million euros for the coming year."),
    ("lighthouse.md", "# Lighthouse\n\nThe Hallbjorn lighthouse was restored by volunteers in 1987."),
    ("payroll.html", "<html><body><p>Payroll runs on the 25th day of every month.</p></body></html>"),
    ("wifi.txt", "The guest wifi password rotates every Monday at noon."),
    ("parking.csv", "topic,rule\nparking,Visitors park in garage B on level minus two\n"),
    ("kitchen.json", '{"topic": "kitchen", "rule": "Dishwashers are emptied by the facilities team at 4 pm."}'),
    ("travel.txt", "Train travel is required for trips shorter than 600 kilometres."),
    ("security.md", "Badges must be worn visibly; lost badges are reported to reception within one hour."),
    ("vacation.txt", "Employees receive 27 days of paid vacation each calendar year."),
    ("laptops.txt", "Laptops are replaced every four years by the IT service desk."),
    ("mentoring.txt", "New hires are paired with a mentor for their first ninety days."),
    ("expenses.txt", "Expense claims above 500 euros need approval from a director."),
    ("fire.txt", "The fire assembly point is the oak tree beside the north car park."),
    ("library.txt", "The office library lends books for a maximum of three weeks."),
    ("bicycles.txt", "Bicycle storage is in the courtyard shed; the code changes quarterly."),
    ("printing.txt", "Colour printing is limited to forty pages per person per week."),
    ("canteen.txt", "The canteen serves a vegetarian special every Thursday."),
    ("onboarding.txt", "Onboarding sessions take place in the Atlas meeting room on Tuesdays."),
    ("pension.txt", "The employer contributes six percent of salary to the pension plan."),
    ("remote.txt", "Remote work is allowed on up to three days per week."),
    ("gym.txt", "Membership of the partner gym is reimbursed up to 30 euros a month."),
    ("shipping.txt", "Parcels for customers leave the warehouse at 3 pm on weekdays."),
    ("servers.txt", "The production database servers are located in the Frankfurt data centre."),
    ("backups.txt", "Backups of the finance system are kept for seven years."),
    ("languages.txt", "The company pays for Spanish and German language courses."),
    ("plants.txt", "The office plants are watered by an external gardener on Fridays."),
    ("board.txt", "The supervisory board meets four times a year in the Vienna office."),
    ("recycling.txt", "Batteries are recycled in the red box next to the elevators."),
    ("sabbatical.txt", "A sabbatical of up to six months is possible after five years of service."),
    ("coffee.txt", "The espresso machine on floor three is descaled every second Wednesday."),
]
QUESTIONS = [
    ("What budget does the Zephyr project have?", "zephyr.txt"),
    ("Who restored the lighthouse?", "lighthouse.md"),
    ("When does payroll run?", "payroll.html"),
    ("Where do visitors park?", "parking.csv"),
    ("Who empties the dishwashers?", "kitchen.json"),
    ("How many vacation days do employees get?", "vacation.txt"),
    ("How often are laptops replaced?", "laptops.txt"),
    ("Where is the fire assembly point?", "fire.txt"),
    ("Where are the production database servers located?", "servers.txt"),
    ("How long are finance backups kept?", "backups.txt"),
]


def _corpus_files() -> dict[str, bytes]:
    files = {name: text.encode() for name, text in FACTS}
    # Two more types: a PDF and a Word document, each with a fact of its own.
    files["handbook.pdf"] = pdf_with_text(["Chapter one.", "The night shift supervisor is Ingrid Marsh."])
    files["memo.docx"] = docx_with_paragraphs_and_table(
        paragraphs=["Quarterly memo.", "The Copenhagen office opens in March."], table=[["Desk", "Count"]])
    return files


def _space_of(deployment, files: dict[str, bytes]):
    tenant = tenant_make()
    client = client_for(api_key_make(tenant))
    space = client.post("/api/v1/spaces", {"name": f"handbook {uuid.uuid4().hex[:6]}"}, format="json").json()
    ids = {}
    for name, content in files.items():
        response = client.post(f"/api/v1/spaces/{space['id']}/documents", {"file": SimpleUploadedFile(name, content)},
                               format="multipart")
        assert response.status_code == 201, (name, response.json())
        ids[name] = response.json()["id"]
    rq_burst(deployment, "documents")  # processing, then one index build
    return tenant, client, space, ids


@pytest.fixture
def corpus(deployment):
    """A space of 32 processed documents, and its owner's client."""
    return _space_of(deployment, _corpus_files())


@pytest.fixture
def small(deployment):
    """A space of three processed documents, and its owner's client."""
    files = _corpus_files()
    return _space_of(deployment, {name: files[name] for name in ("zephyr.txt", "payroll.html", "parking.csv")})


def _ask(client, space_id, question, **parameters):
    response = client.post(f"/api/v1/spaces/{space_id}/queries",
                           {"question": question, **({"parameters": parameters} if parameters else {})}, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "pending"
    assert response["Location"] == f"/api/v1/queries/{response.json()['id']}"
    return response.json()["id"]


def test_questions_are_answered_from_and_cite_the_document_holding_the_answer(corpus, deployment):
    _, client, space, ids = corpus
    asked = {_ask(client, space["id"], question): expected for question, expected in QUESTIONS}
    night = _ask(client, space["id"], "Who is the night shift supervisor?")
    office = _ask(client, space["id"], "When does the Copenhagen office open?")
    nothing = _ask(client, space["id"], "Which submarine crossed the Atlantic?")
    restricted = _ask(client, space["id"], "What is the budget of the Zephyr project?", document_ids=[ids["fire.txt"]])
    worker = rq_burst(deployment, "default")
    failures = []
    for query_id, expected in asked.items():
        result = client.get(f"/api/v1/queries/{query_id}/result")
        assert result.status_code == 200, result.json()
        body = result.json()
        cited = [c["document_id"] for c in body["citations"]]
        if not cited or set(cited) != {ids[expected]}:
            failures.append((expected, body["answer"], [c["filename"] for c in body["citations"]]))
        assert body["provider"] == "extractive"
        assert set(body["latency_ms"]) == {"retrieval", "generation", "total"}
    assert len(failures) <= 1, failures  # at least 9 of 10
    # The PDF and the Word document answer too.
    night_result = client.get(f"/api/v1/queries/{night}/result").json()
    assert "Ingrid Marsh" in night_result["answer"]
    assert night_result["citations"][0]["document_id"] == ids["handbook.pdf"]
    assert client.get(f"/api/v1/queries/{office}/result").json()["citations"][0]["document_id"] == ids["memo.docx"]
    # No match: an answer that says so, not a guess.
    body = client.get(f"/api/v1/queries/{nothing}/result").json()
    assert (body["citations"], "could not find" in body["answer"]) == ([], True)
    # document_ids restrict the answer.
    body = client.get(f"/api/v1/queries/{restricted}/result").json()
    assert {c["document_id"] for c in body["citations"]} <= {ids["fire.txt"]}
    # Every status change is an event.
    events = client.get("/api/v1/events", {"type": "query.*", "space_id": space["id"], "limit": 100}).json()["items"]
    assert sorted(e["type"] for e in events) == sorted(["query.submitted", "query.completed"] * (len(asked) + 4))
    # Each job ran in a fresh process, which loaded the index rather than rebuilding it: read the
    # query, mark it processing, read the index record, write the answer, relay its event (the
    # webhook fan-out reads the tenant's endpoints; record it; clear the outbox): seven store calls
    # for 32 documents, as for one; never the chunks.
    lines = [json.loads(line) for line in (worker.stdout + worker.stderr).splitlines() if line.startswith("{")]
    jobs = [line for line in lines
            if line.get("message") == "job" and line.get("function", "").endswith("query_run_job")]
    assert len(jobs) == len(asked) + 4
    assert {(job["outcome"], job["store_calls"]) for job in jobs} == {("finished", 7)}


def test_a_space_without_processed_documents_says_so(deployment):
    client = client_for(api_key_make(tenant_make()))
    space = client.post("/api/v1/spaces", {"name": "empty"}, format="json").json()
    query_id = _ask(client, space["id"], "What is the budget?")
    rq_burst(deployment, "default")
    body = client.get(f"/api/v1/queries/{query_id}/result").json()
    assert (body["citations"], "could not find" in body["answer"]) == ([], True)


def test_the_result_is_425_until_final_then_cancel_is_409(small, deployment):
    _, client, space, _ = small
    query_id = _ask(client, space["id"], "When does payroll run?")
    early = client.get(f"/api/v1/queries/{query_id}/result")
    assert early.status_code == 425
    assert early.json()["error"]["code"] == "too_early"
    assert int(early["Retry-After"]) >= 1
    rq_burst(deployment, "default")
    assert client.get(f"/api/v1/queries/{query_id}").json()["status"] == "completed"
    late = client.post(f"/api/v1/queries/{query_id}/cancel")
    assert late.status_code == 409
    assert late.json()["error"]["details"]["status"] == "completed"


def test_a_cancelled_query_stays_cancelled_and_its_answer_is_dropped(small, deployment):
    _, client, space, _ = small
    query_id = _ask(client, space["id"], "When does payroll run?")
    cancelled = client.post(f"/api/v1/queries/{query_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    rq_burst(deployment, "default")
    assert client.get(f"/api/v1/queries/{query_id}").json()["status"] == "cancelled"
    result = client.get(f"/api/v1/queries/{query_id}/result")
    assert (result.status_code, result.json()["error"]["details"]["status"]) == (409, "cancelled")
    types = [e["type"] for e in client.get("/api/v1/events", {"type": "query.*"}).json()["items"]]
    assert types == ["query.cancelled", "query.submitted"]


def test_the_index_follows_the_documents(small, deployment):
    _, client, space, ids = small
    client.delete(f"/api/v1/documents/{ids['zephyr.txt']}")
    gone = _ask(client, space["id"], "What budget does the Zephyr project have?")
    added = client.post(f"/api/v1/spaces/{space['id']}/documents",
                        {"file": SimpleUploadedFile("orion.txt", b"The Orion rocket weighs 80 tonnes.")},
                        format="multipart").json()
    rq_burst(deployment, "documents")
    found = _ask(client, space["id"], "How much does the Orion rocket weigh?")
    rq_burst(deployment, "default")
    gone_body = client.get(f"/api/v1/queries/{gone}/result").json()
    assert ids["zephyr.txt"] not in {c["document_id"] for c in gone_body["citations"]}
    assert client.get(f"/api/v1/queries/{found}/result").json()["citations"][0]["document_id"] == added["id"]


def test_too_many_open_queries_are_429(deployment, settings):
    settings.EVA_MAX_PENDING_QUERIES = 2
    client = client_for(api_key_make(tenant_make()))
    space = client.post("/api/v1/spaces", {"name": "busy"}, format="json").json()
    _ask(client, space["id"], "one")
    _ask(client, space["id"], "two")
    third = client.post(f"/api/v1/spaces/{space['id']}/queries", {"question": "three"}, format="json")
    assert third.status_code == 429
    assert int(third["Retry-After"]) >= 1


def test_a_query_past_its_time_limit_ends_failed(deployment, settings):
    settings.EVA_QUERY_TIMEOUT_SECONDS = -1  # due before it is asked
    tenant = tenant_make()
    client = client_for(api_key_make(tenant))
    space = client.post("/api/v1/spaces", {"name": "slow"}, format="json").json()
    query_id = _ask(client, space["id"], "anything?")
    assert queries_recover_sweep(grace_seconds=0) >= 1
    body = client.get(f"/api/v1/queries/{query_id}").json()
    assert body["status"] == "failed"
    assert "not answered within" in body["failure_reason"]
    # The job, when it comes, leaves a final query alone.
    assert query_run(space_id=space["id"], query_id=query_id) is None


def test_the_other_route_and_the_list(small, deployment):
    _, client, space, _ = small
    response = client.post("/api/v1/queries", {"space_id": space["id"], "question": "When is the canteen special?",
                                                "parameters": {"top_k": 3}}, format="json")
    assert response.status_code == 202
    first = response.json()["id"]
    second = _ask(client, space["id"], "Who waters the plants?")
    client.post(f"/api/v1/queries/{second}/cancel")
    listed = client.get(f"/api/v1/spaces/{space['id']}/queries").json()["items"]
    assert [q["id"] for q in listed] == [second, first]
    assert [q["id"] for q in client.get(f"/api/v1/spaces/{space['id']}/queries",
                                         {"status": "cancelled"}).json()["items"]] == [second]


@pytest.mark.parametrize(
    "body",
    [{"question": ""}, {"question": "x" * 2001}, {"question": "ok", "parameters": {"top_k": 21}},
     {"question": "ok", "parameters": {"top_k": 0}}, {"question": "ok", "parameters": {"document_ids": ["nope"]}},
     {"question": 7},
     # JSON of other types, which DRF's fields read: 1 as a UUID (00000000-...-0001), true as 1.0.
     {"question": "ok", "parameters": {"document_ids": [1]}}, {"question": "ok", "parameters": {"temperature": True}},
     {"question": "ok", "parameters": {"temperature": "0.5"}}],
)
def test_invalid_queries_are_400(admin_client, body):
    space = admin_client.post("/api/v1/spaces", {"name": f"v {uuid.uuid4().hex[:6]}"}, format="json").json()
    assert admin_client.post(f"/api/v1/spaces/{space['id']}/queries", body, format="json").status_code == 400


def test_a_query_limited_to_documents_takes_only_documents_of_its_space(small, deployment):
    """Another tenant's document, another space's or a deleted one answered from nothing, silently."""
    _, client, space, ids = small
    other_space = client.post("/api/v1/spaces", {"name": f"other {uuid.uuid4().hex[:6]}"}, format="json").json()
    elsewhere = client.post(f"/api/v1/spaces/{other_space['id']}/documents",
                            {"file": SimpleUploadedFile("elsewhere.txt", b"another space's words")},
                            format="multipart").json()["id"]
    stranger = client_for(api_key_make(tenant_make()))
    strangers_space = stranger.post("/api/v1/spaces", {"name": "theirs"}, format="json").json()
    theirs = stranger.post(f"/api/v1/spaces/{strangers_space['id']}/documents",
                           {"file": SimpleUploadedFile("theirs.txt", b"their words")}, format="multipart").json()["id"]
    deleted = ids["parking.csv"]
    assert client.delete(f"/api/v1/documents/{deleted}").status_code == 204
    for document_id in (elsewhere, theirs, deleted, str(uuid.uuid4())):
        response = client.post(f"/api/v1/spaces/{space['id']}/queries",
                               {"question": "Who?", "parameters": {"document_ids": [ids["zephyr.txt"], document_id]}},
                               format="json")
        assert response.status_code == 400, document_id
        assert document_id in response.json()["error"]["details"]["document_ids"][0]
    assert client.get(f"/api/v1/spaces/{space['id']}/queries").json()["items"] == []
    _ask(client, space["id"], "What is the budget of the Zephyr project?", document_ids=[ids["zephyr.txt"]])


def test_another_tenants_queries_are_404(deployment):
    owner = client_for(api_key_make(tenant_make()))
    space = owner.post("/api/v1/spaces", {"name": "private"}, format="json").json()
    query_id = _ask(owner, space["id"], "secret?")
    stranger = client_for(api_key_make(tenant_make()))
    for method, path in [("get", f"/api/v1/queries/{query_id}"), ("get", f"/api/v1/queries/{query_id}/result"),
                         ("post", f"/api/v1/queries/{query_id}/cancel"),
                         ("get", f"/api/v1/spaces/{space['id']}/queries"),
                         ("post", f"/api/v1/spaces/{space['id']}/queries")]:
        response = getattr(stranger, method)(path, {"question": "mine?"} if method == "post" else None,
                                             format="json")
        assert response.status_code == 404, (method, path)
    assert owner.get(f"/api/v1/queries/{query_id}").json()["status"] == "pending"  # untouched


def test_deleting_the_space_removes_its_queries_and_index(small, deployment):
    tenant, client, space, _ = small
    query_id = _ask(client, space["id"], "Where do visitors park?")
    rq_burst(deployment, "default")
    state = indexes.repositories.index_state_read(tenant_id=tenant.id, space_id=space["id"])
    assert state.blob_name
    client.delete(f"/api/v1/spaces/{space['id']}")
    rq_burst(deployment, "default")
    assert client.get(f"/api/v1/queries/{query_id}").status_code == 404
    assert indexes.repositories.index_state_read(tenant_id=tenant.id, space_id=space["id"]) is None
    from documents.storage import document_storage

    assert not document_storage().exists(state.blob_name)


def test_with_azure_openai_a_query_is_answered_by_the_model_and_its_failures_end_it_failed(small, deployment):
    """The worker talks to a local server that speaks Azure OpenAI's chat-completions API."""
    from tests.spaces.openai_server import API_KEY, API_VERSION, DEPLOYMENT, OpenAIServer, Reply, rate_limited

    _, client, space, ids = small
    server = OpenAIServer().start()
    try:
        env = {**deployment, "EVA_ANSWER_PROVIDER": "azure_openai", "AZURE_OPENAI_ENDPOINT": server.url,
               "AZURE_OPENAI_API_KEY": API_KEY, "AZURE_OPENAI_DEPLOYMENT": DEPLOYMENT,
               "AZURE_OPENAI_API_VERSION": API_VERSION, "AZURE_OPENAI_TIMEOUT_SECONDS": "2",
               "AZURE_OPENAI_MAX_RETRIES": "1"}
        # A 429 with Retry-After, then an answer citing the first passage and one never sent.
        server.script(rate_limited("1"), Reply("Payroll runs on the 25th [1], as the policy says [9]."))
        answered = _ask(client, space["id"], "When does payroll run?", temperature=0.1, max_tokens=200)
        rq_burst(env, "default")
        body = client.get(f"/api/v1/queries/{answered}/result").json()
        assert body["provider"] == "azure_openai"
        assert [c["document_id"] for c in body["citations"]] == [ids["payroll.html"]]  # [9] was not sent: dropped
        assert body["usage"]["total_tokens"] > 0
        assert len(server.received) == 2
        sent = server.received[-1].body
        assert (sent["temperature"], sent["max_tokens"]) == (0.1, 200)
        assert "25th day of every month" in json.dumps(sent["messages"])
        # A model that does not answer in time: the query ends failed with the reason.
        server.script(Reply("late", delay=5))
        slow = _ask(client, space["id"], "When does payroll run?")
        rq_burst(env, "default")
        failed = client.get(f"/api/v1/queries/{slow}").json()
        assert failed["status"] == "failed"
        assert "did not answer within" in failed["failure_reason"]
    finally:
        server.stop()
