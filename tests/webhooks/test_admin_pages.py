"""The admin's webhook pages: endpoints, deliveries with their attempts, dead letters, read from
the store; four audited POST actions (retry a delivery, replay one dead letter or those selected,
disable or enable an endpoint); and the tenant wall: a staff user who is not a superuser sees only
their own tenant, and anything of another tenant is a 404 that changes and audits nothing."""

import html
import re
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from evaapi.auth.models import TenantMembership
from evaapi.auth.selectors import audit_log_list
from evaapi.events.domain import event_make
from evaapi.times import utc_now
from tests.factories import tenant_make
from tests.webhooks.attempts import claim_one, record_one
from webhooks import admin_views, repositories
from webhooks.selectors import delivery_get, endpoint_get
from webhooks.sender import SendResult
from webhooks.services import (
    delivery_id_for,
    endpoint_create,
    endpoint_disable,
    webhooks_publish,
)

pytestmark = pytest.mark.django_db
ACTIONS = ("webhook.update", "webhook.delivery_retry", "webhook.dead_letter_replay")


# --- the world the pages show, made through the services -----------------------------------------
def _user(*, staff=True, superuser=False, tenant=None):
    user = get_user_model().objects.create_user(username=f"u{uuid.uuid4().hex[:8]}", password="correct horse 1",
                                                is_staff=staff, is_superuser=superuser)
    if tenant is not None:
        TenantMembership.objects.create(user=user, tenant_id=tenant.id, scopes=[])
    return user


def _client(user, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def _event(tenant, event_type: str):
    space_id = str(uuid.uuid4())
    data = {"space_id": space_id, "name": "Space"} if event_type.startswith("space.") else {
        "document_id": str(uuid.uuid4()), "space_id": space_id, "filename": "a.txt", "status": "pending",
        "size_bytes": 3}
    return event_make(type=event_type, tenant_id=tenant.id, data=data, space_id=space_id)


def _delivery(tenant, endpoint, event_type: str) -> str:
    """A delivery of a new event to the endpoint (the fan-out's own service); its id."""
    event = _event(tenant, event_type)
    webhooks_publish(event)
    return delivery_id_for(event_id=event.id, webhook_id=endpoint.id)


def _attempt(endpoint, delivery_id: str, result: SendResult, *, after_seconds: float = 0):
    at = utc_now() + timedelta(seconds=after_seconds)
    claimed = claim_one(webhook_id=endpoint.id, delivery_id=delivery_id, now=at)
    assert claimed is not None
    return record_one(claimed, result, now=at)


def _dead(tenant, endpoint, event_type: str) -> str:
    """A delivery that ran out of its two attempts (a timeout, then a 500): a dead letter."""
    delivery_id = _delivery(tenant, endpoint, event_type)
    _attempt(endpoint, delivery_id, SendResult(status_code=None, latency_ms=2000.0, error_class="ConnectTimeout",
                                               error_message="connect timed out after 2 s"))
    dead = _attempt(endpoint, delivery_id, SendResult(status_code=500, response_body="upstream exploded",
                                                      latency_ms=31.5), after_seconds=400)
    assert dead.status == "dead"
    return delivery_id


def _world():
    tenant = tenant_make()
    endpoint, secret = endpoint_create(tenant=tenant, actor="test", url="https://hooks.example.com/eva",
                                       event_types=["space.*", "document.added"], description="orders system")
    succeeded = _delivery(tenant, endpoint, "space.created")
    _attempt(endpoint, succeeded, SendResult(status_code=200, response_body="thanks", latency_ms=8.25))
    dead = _dead(tenant, endpoint, "document.added")
    pending = _delivery(tenant, endpoint, "space.deleted")
    return SimpleNamespace(tenant=tenant, endpoint=endpoint, secret=secret, succeeded=succeeded, dead=dead,
                           pending=pending)


@pytest.fixture(autouse=True)
def _two_attempts(settings):
    settings.WEBHOOK_RETRY_SCHEDULE = ["0", "300"]


@pytest.fixture
def world():
    return _world()


@pytest.fixture
def operator():
    """A platform operator: a superuser, member of no tenant."""
    return _user(superuser=True)


def _page(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def _next_page(response) -> str | None:
    match = re.search(r'href="([^"]*\?[^"]*continuation=[^"]+)"', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def _audit(tenant, action):
    entries, _ = audit_log_list(tenant=tenant, filters={"action": action}, limit=50, continuation=None)
    return entries


def _letter(tenant, letter_id):
    return repositories.dead_letter_from_item(repositories.dead_letter_item_read(tenant_id=tenant.id,
                                                                                 letter_id=letter_id))


def _endpoint_url(world, suffix=""):
    return f"/admin/webhooks/tenants/{world.tenant.id}/endpoints/{world.endpoint.id}/{suffix}"


def _letter_url(world, letter_id, suffix=""):
    return f"/admin/webhooks/tenants/{world.tenant.id}/dead-letters/{letter_id}/{suffix}"


# --- the index ---------------------------------------------------------------------------------
def test_the_admin_index_links_the_webhook_pages(operator):
    page = _page(_client(operator).get("/admin/"))
    assert 'href="/admin/webhooks/endpoints/"' in page
    assert 'href="/admin/webhooks/dead-letters/"' in page
    assert 'href="/admin/tenants/"' in page


# --- endpoints ---------------------------------------------------------------------------------
def test_an_operator_chooses_a_tenant_to_list_its_endpoints(operator, world):
    other = _world()
    client = _client(operator)
    unchosen = _page(client.get("/admin/webhooks/endpoints/"))
    assert "Choose a tenant" in unchosen
    assert world.endpoint.id not in unchosen
    assert f'value="{world.tenant.id}"' in unchosen  # offered in the tenant filter
    listing = _page(client.get(f"/admin/webhooks/endpoints/?tenant={world.tenant.id}"))
    assert world.endpoint.id in listing
    assert world.endpoint.url in listing
    assert other.endpoint.id not in listing


def test_an_unknown_tenant_is_a_404(operator):
    client = _client(operator)
    assert client.get("/admin/webhooks/endpoints/?tenant=no-such-tenant").status_code == 404
    assert client.get("/admin/webhooks/dead-letters/?tenant=no-such-tenant").status_code == 404


def test_the_endpoint_list_pages_and_keeps_its_filters(operator, monkeypatch):
    monkeypatch.setattr(admin_views, "PAGE_SIZE", 2)
    tenant = tenant_make()
    endpoints = [endpoint_create(tenant=tenant, actor="test", url=f"https://hooks{n}.example.com/",
                                 event_types=["*"])[0] for n in range(3)]
    client = _client(operator)
    first = client.get(f"/admin/webhooks/endpoints/?tenant={tenant.id}&active=active")
    shown = {e.id for e in endpoints if e.id in _page(first)}
    assert len(shown) == 2
    next_url = _next_page(first)
    assert f"tenant={tenant.id}" in next_url
    assert "active=active" in next_url
    second = _page(client.get(next_url))
    assert {e.id for e in endpoints if e.id in second} == {e.id for e in endpoints} - shown
    assert "First page" in second


def test_the_endpoint_list_filters_active_and_inactive(operator, world):
    disabled, _ = endpoint_create(tenant=world.tenant, actor="test", url="https://gone.example.com/",
                                  event_types=["*"])
    endpoint_disable(tenant_id=world.tenant.id, webhook_id=disabled.id, reason="The endpoint answered 410 Gone.")
    client = _client(operator)
    base = f"/admin/webhooks/endpoints/?tenant={world.tenant.id}"
    active = _page(client.get(base + "&active=active"))
    inactive = _page(client.get(base + "&active=inactive"))
    both = _page(client.get(base))
    assert (world.endpoint.id in active, disabled.id in active) == (True, False)
    assert (world.endpoint.id in inactive, disabled.id in inactive) == (False, True)
    assert world.endpoint.id in both
    assert disabled.id in both
    assert client.get(base + "&active=maybe").status_code == 400


def test_the_endpoint_page_shows_stats_and_event_types_and_never_the_secret(operator, world):
    endpoint_disable(tenant_id=world.tenant.id, webhook_id=world.endpoint.id,
                     reason="Every delivery failed for 5 days.")
    page = _page(_client(operator).get(_endpoint_url(world)))
    for shown in (world.endpoint.url, "orders system", "space.*, document.added", "Every delivery failed for 5 days.",
                  "inactive", "Enable this endpoint"):
        assert shown in page
    stats = endpoint_get(tenant=world.tenant, webhook_id=world.endpoint.id)
    assert (stats.successes, stats.failures) == (1, 2)
    assert stats.last_success_at in page
    assert stats.last_failure_at in page
    stored = repositories.endpoint_item_read(tenant_id=world.tenant.id, webhook_id=world.endpoint.id)
    assert world.secret not in page
    assert stored["secret_encrypted"] not in page
    assert "whsec_" not in page


def test_disabling_and_enabling_an_endpoint_is_audited(operator, world):
    client = _client(operator)
    response = client.post(_endpoint_url(world, "active/"), {"active": "inactive"})
    assert response.status_code == 302
    assert response["Location"] == _endpoint_url(world)
    assert endpoint_get(tenant=world.tenant, webhook_id=world.endpoint.id).active is False
    page = _page(client.get(response["Location"]))
    assert "is disabled" in page
    assert "Enable this endpoint" in page
    endpoint_disable(tenant_id=world.tenant.id, webhook_id=world.endpoint.id, reason="irrelevant")  # already off
    assert client.post(_endpoint_url(world, "active/"), {"active": "active"}).status_code == 302
    enabled = endpoint_get(tenant=world.tenant, webhook_id=world.endpoint.id)
    assert (enabled.active, enabled.disabled_reason) == (True, None)
    entries = _audit(world.tenant, "webhook.update")
    assert [(e.actor, e.resource_id) for e in entries] == [(f"admin:{operator.pk}", world.endpoint.id)] * 2


def test_an_unknown_state_is_refused(operator, world):
    assert _client(operator).post(_endpoint_url(world, "active/"), {"active": "maybe"}).status_code == 400
    assert endpoint_get(tenant=world.tenant, webhook_id=world.endpoint.id).active is True
    assert _audit(world.tenant, "webhook.update") == []


# --- deliveries --------------------------------------------------------------------------------
def test_the_delivery_list_filters_by_status_and_event_type(operator, world):
    client = _client(operator)
    url = _endpoint_url(world, "deliveries/")
    every = _page(client.get(url))
    assert all(d in every for d in (world.succeeded, world.dead, world.pending))
    dead = _page(client.get(url + "?status=dead"))
    assert (world.dead in dead, world.succeeded in dead, world.pending in dead) == (True, False, False)
    spaces = _page(client.get(url + "?event_type=space.created"))
    assert (world.succeeded in spaces, world.dead in spaces, world.pending in spaces) == (True, False, False)
    both = _page(client.get(url + "?status=pending&event_type=space.deleted"))
    assert (world.pending in both, world.succeeded in both) == (True, False)
    assert "fewer rows" in both  # the page says its event-type filter is applied per store page
    assert client.get(url + "?status=lost").status_code == 400
    assert client.get(url + "?event_type=no.such").status_code == 400


def test_the_delivery_list_pages_with_its_filters(operator, world, monkeypatch):
    monkeypatch.setattr(admin_views, "PAGE_SIZE", 1)
    extra = _delivery(world.tenant, world.endpoint, "space.created")
    client = _client(operator)
    seen, url = [], _endpoint_url(world, "deliveries/?status=pending")
    while url:
        response = client.get(url)
        seen += [d for d in (world.pending, extra, world.dead, world.succeeded) if d in _page(response)]
        url = _next_page(response)
        assert url is None or "status=pending" in url
    assert sorted(seen) == sorted([world.pending, extra])


def test_the_delivery_page_shows_its_attempts(operator, world):
    page = _page(_client(operator).get(_endpoint_url(world, f"deliveries/{world.dead}/")))
    for shown in ("document.added", "dead", "ConnectTimeout: connect timed out after 2 s", "upstream exploded",
                  "2000.0 ms", "31.5 ms", "500", "Retry this delivery", "[redacted]"):
        assert shown in page, shown
    logs = re.findall(r"<tr>\s*<td>([^<]+Z)</td>\s*<td>(\d)</td>", page)
    assert [attempt for _, attempt in logs] == ["2", "1"]  # newest first
    # Another delivery's attempts are not shown with this one.
    assert "thanks" not in page
    succeeded = _page(_client(operator).get(_endpoint_url(world, f"deliveries/{world.succeeded}/")))
    assert "thanks" in succeeded
    assert "8.25 ms" in succeeded
    assert "Retry this delivery" not in succeeded


def test_retrying_a_delivery_is_audited_and_reopens_it(operator, world):
    client = _client(operator)
    response = client.post(_endpoint_url(world, f"deliveries/{world.dead}/retry/"))
    assert response.status_code == 302
    assert response["Location"] == _endpoint_url(world, f"deliveries/{world.dead}/")
    delivery = delivery_get(tenant=world.tenant, webhook_id=world.endpoint.id, delivery_id=world.dead)
    assert (delivery.status, delivery.attempt_count) == ("pending", 0)
    assert "is pending: it is sent again now" in _page(client.get(response["Location"]))
    [entry] = _audit(world.tenant, "webhook.delivery_retry")
    assert (entry.actor, entry.resource_id) == (f"admin:{operator.pk}", world.dead)


def test_a_retry_while_the_endpoint_is_disabled_waits_for_it_and_says_so(operator, world):
    endpoint_disable(tenant_id=world.tenant.id, webhook_id=world.endpoint.id, reason="The endpoint answered 410 Gone.")
    client = _client(operator)
    page = _page(client.post(_endpoint_url(world, f"deliveries/{world.dead}/retry/"), follow=True))
    assert "is pending: it is sent once its endpoint is enabled again" in page
    assert "parked: once the endpoint is enabled" in page
    delivery = delivery_get(tenant=world.tenant, webhook_id=world.endpoint.id, delivery_id=world.dead)
    assert (delivery.status, delivery.next_attempt_at) == ("pending", None)


def test_a_succeeded_delivery_is_not_retried(operator, world):
    response = _client(operator).post(_endpoint_url(world, f"deliveries/{world.succeeded}/retry/"), follow=True)
    assert "Not retried: The delivery succeeded already." in _page(response)
    assert delivery_get(tenant=world.tenant, webhook_id=world.endpoint.id,
                        delivery_id=world.succeeded).status == "succeeded"
    assert _audit(world.tenant, "webhook.delivery_retry") == []


def test_an_unknown_endpoint_or_delivery_is_a_404(operator, world):
    client = _client(operator)
    missing = str(uuid.uuid4())
    for path in (f"/admin/webhooks/tenants/{world.tenant.id}/endpoints/{missing}/",
                 f"/admin/webhooks/tenants/{world.tenant.id}/endpoints/not-a-uuid/deliveries/",
                 _endpoint_url(world, "deliveries/msg_nosuch/")):
        assert client.get(path).status_code == 404, path
    assert client.post(_endpoint_url(world, "deliveries/msg_nosuch/retry/")).status_code == 404


# --- dead letters ------------------------------------------------------------------------------
def test_the_dead_letter_list_filters_by_tenant_and_event_type(operator, world):
    other = _world()
    space_letter = _dead(world.tenant, world.endpoint, "space.deleted")
    client = _client(operator)
    assert "Choose a tenant" in _page(client.get("/admin/webhooks/dead-letters/"))
    listing = _page(client.get(f"/admin/webhooks/dead-letters/?tenant={world.tenant.id}"))
    assert (world.dead in listing, space_letter in listing, other.dead in listing) == (True, True, False)
    documents = _page(client.get(f"/admin/webhooks/dead-letters/?tenant={world.tenant.id}&event_type=document.added"))
    assert (world.dead in documents, space_letter in documents) == (True, False)
    of_other = _page(client.get(f"/admin/webhooks/dead-letters/?tenant={other.tenant.id}"))
    assert (other.dead in of_other, world.dead in of_other) == (True, False)
    assert client.get(f"/admin/webhooks/dead-letters/?tenant={world.tenant.id}&event_type=x").status_code == 400


def test_the_dead_letter_list_pages_with_its_filters(operator, world, monkeypatch):
    monkeypatch.setattr(admin_views, "PAGE_SIZE", 1)
    second = _dead(world.tenant, world.endpoint, "document.added")
    client = _client(operator)
    seen, url = [], f"/admin/webhooks/dead-letters/?tenant={world.tenant.id}&event_type=document.added"
    while url:
        response = client.get(url)
        seen += [d for d in (world.dead, second) if d in _page(response)]
        url = _next_page(response)
        assert url is None or ("event_type=document.added" in url and f"tenant={world.tenant.id}" in url)
    assert sorted(seen) == sorted([world.dead, second])


def test_the_dead_letter_page_shows_it(operator, world):
    page = _page(_client(operator).get(_letter_url(world, world.dead)))
    for shown in (world.dead, world.endpoint.id, "document.added", "HTTP 500",
                  "not replayed", "Replay this dead letter"):
        assert shown in page, shown
    assert _client(operator).get(_letter_url(world, "msg_nosuch")).status_code == 404


def test_replaying_a_dead_letter_is_audited(operator, world):
    client = _client(operator)
    response = client.post(_letter_url(world, world.dead, "replay/"))
    assert response.status_code == 302
    assert response["Location"] == _letter_url(world, world.dead)
    page = _page(client.get(response["Location"]))
    assert "Dead letter replayed" in page
    assert "Replay this dead letter" not in page
    assert _letter(world.tenant, world.dead).replayed_at is not None
    assert delivery_get(tenant=world.tenant, webhook_id=world.endpoint.id, delivery_id=world.dead).status == "pending"
    [entry] = _audit(world.tenant, "webhook.dead_letter_replay")
    assert (entry.actor, entry.resource_id) == (f"admin:{operator.pk}", world.dead)
    # Once more: its delivery is no longer dead, so nothing is replayed or audited.
    again = client.post(_letter_url(world, world.dead, "replay/"), follow=True)
    assert "Not replayed: The delivery is pending already." in _page(again)
    assert len(_audit(world.tenant, "webhook.dead_letter_replay")) == 1


def test_replaying_the_selected_dead_letters(operator, world):
    second = _dead(world.tenant, world.endpoint, "space.created")
    untouched = _dead(world.tenant, world.endpoint, "space.created")
    client = _client(operator)
    url = f"/admin/webhooks/tenants/{world.tenant.id}/dead-letters/replay/"
    response = client.post(url, {"letter": [world.dead, second]})
    assert response.status_code == 302
    assert response["Location"] == f"/admin/webhooks/dead-letters/?tenant={world.tenant.id}"
    listing = _page(client.get(response["Location"]))
    assert "Replayed 2 dead letters." in listing
    assert listing.count("replayed 20") == 2  # "replayed <time>" in the two rows
    assert _letter(world.tenant, untouched).replayed_at is None
    entries = _audit(world.tenant, "webhook.dead_letter_replay")
    assert sorted((e.actor, e.resource_id) for e in entries) == sorted(
        [(f"admin:{operator.pk}", world.dead), (f"admin:{operator.pk}", second)])
    # A letter replayed already is refused by name; the others still go.
    mixed = client.post(url, {"letter": [world.dead, untouched]}, follow=True)
    assert "Replayed 1 dead letter." in _page(mixed)
    assert f"Not replayed: {world.dead}: The delivery is pending already." in _page(mixed)
    assert _letter(world.tenant, untouched).replayed_at is not None
    nothing = client.post(url, follow=True)
    assert "Select the dead letters to replay." in _page(nothing)


def test_selecting_an_unknown_letter_replays_none(operator, world):
    url = f"/admin/webhooks/tenants/{world.tenant.id}/dead-letters/replay/"
    assert _client(operator).post(url, {"letter": [world.dead, "msg_nosuch"]}).status_code == 404
    assert _letter(world.tenant, world.dead).replayed_at is None
    assert _audit(world.tenant, "webhook.dead_letter_replay") == []


def test_the_list_replays_one_letter_from_its_row(operator, world):
    """Each row's Replay button posts the list's form (with its CSRF token) to that letter's
    replay; the Replay selected button posts it to the bulk replay."""
    listing = _page(_client(operator).get(f"/admin/webhooks/dead-letters/?tenant={world.tenant.id}"))
    assert f'formaction="{_letter_url(world, world.dead, "replay/")}"' in listing
    assert f'action="/admin/webhooks/tenants/{world.tenant.id}/dead-letters/replay/"' in listing
    assert f'name="letter" value="{world.dead}"' in listing


# --- CSRF ----------------------------------------------------------------------------------------
def test_the_actions_are_posts_with_a_csrf_token(operator, world):
    client = _client(operator, enforce_csrf_checks=True)
    actions = {
        _endpoint_url(world, "active/"): {"active": "inactive"},
        _endpoint_url(world, f"deliveries/{world.dead}/retry/"): {},
        _letter_url(world, world.dead, "replay/"): {},
        f"/admin/webhooks/tenants/{world.tenant.id}/dead-letters/replay/": {"letter": world.dead},
    }
    for url, data in actions.items():
        assert client.get(url).status_code == 405, url
        assert client.post(url, data).status_code == 403, url
    assert endpoint_get(tenant=world.tenant, webhook_id=world.endpoint.id).active is True
    assert delivery_get(tenant=world.tenant, webhook_id=world.endpoint.id, delivery_id=world.dead).status == "dead"
    assert _letter(world.tenant, world.dead).replayed_at is None
    assert all(_audit(world.tenant, action) == [] for action in ACTIONS)
    # The pages' own forms carry the token.
    page = _page(client.get(_endpoint_url(world)))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(_endpoint_url(world, "active/"),
                       {"active": "inactive", "csrfmiddlewaretoken": token}).status_code == 302
    assert endpoint_get(tenant=world.tenant, webhook_id=world.endpoint.id).active is False


# --- the tenant wall -----------------------------------------------------------------------------
def test_a_tenants_staff_user_sees_and_acts_on_their_own_tenant(world):
    other = _world()
    user = _user(tenant=world.tenant)
    client = _client(user)
    endpoints = _page(client.get("/admin/webhooks/endpoints/"))  # their own tenant, unasked
    assert (world.endpoint.id in endpoints, other.endpoint.id in endpoints) == (True, False)
    assert other.tenant.id not in endpoints  # not even offered in the tenant filter
    letters = _page(client.get("/admin/webhooks/dead-letters/"))
    assert (world.dead in letters, other.dead in letters) == (True, False)
    assert world.dead in _page(client.get(f"/admin/webhooks/dead-letters/?tenant={world.tenant.id}"))
    for path in (_endpoint_url(world), _endpoint_url(world, "deliveries/"),
                 _endpoint_url(world, f"deliveries/{world.dead}/"), _letter_url(world, world.dead)):
        _page(client.get(path))
    assert client.post(_letter_url(world, world.dead, "replay/")).status_code == 302
    assert client.post(_endpoint_url(world, f"deliveries/{world.dead}/retry/")).status_code == 302
    assert client.post(_endpoint_url(world, "active/"), {"active": "inactive"}).status_code == 302
    assert _letter(world.tenant, world.dead).replayed_at is not None
    assert endpoint_get(tenant=world.tenant, webhook_id=world.endpoint.id).active is False
    actor = f"admin:{user.pk}"
    for action in ACTIONS:
        assert [e.actor for e in _audit(world.tenant, action)] == [actor], action


def test_another_tenants_pages_and_actions_are_404_to_a_tenants_staff_user(world):
    own = _world()
    client = _client(_user(tenant=own.tenant))
    other_endpoint = _endpoint_url(world)
    pages = [
        f"/admin/webhooks/endpoints/?tenant={world.tenant.id}",
        f"/admin/webhooks/endpoints/?tenant={world.tenant.id}&continuation=x",
        f"/admin/webhooks/dead-letters/?tenant={world.tenant.id}",
        other_endpoint,
        other_endpoint + "deliveries/",
        other_endpoint + "deliveries/?status=dead",
        other_endpoint + f"deliveries/{world.dead}/",
        _letter_url(world, world.dead),
        # Another tenant's objects under one's own tenant's path.
        f"/admin/webhooks/tenants/{own.tenant.id}/endpoints/{world.endpoint.id}/",
        f"/admin/webhooks/tenants/{own.tenant.id}/endpoints/{world.endpoint.id}/deliveries/",
        f"/admin/webhooks/tenants/{own.tenant.id}/endpoints/{own.endpoint.id}/deliveries/{world.dead}/",
        f"/admin/webhooks/tenants/{own.tenant.id}/dead-letters/{world.dead}/",
    ]
    for path in pages:
        assert client.get(path).status_code == 404, path
    actions = {
        other_endpoint + "active/": {"active": "inactive"},
        other_endpoint + f"deliveries/{world.dead}/retry/": {},
        _letter_url(world, world.dead, "replay/"): {},
        f"/admin/webhooks/tenants/{world.tenant.id}/dead-letters/replay/": {"letter": world.dead},
        f"/admin/webhooks/tenants/{own.tenant.id}/endpoints/{world.endpoint.id}/active/": {"active": "inactive"},
        f"/admin/webhooks/tenants/{own.tenant.id}/endpoints/{world.endpoint.id}/deliveries/{world.dead}/retry/": {},
        f"/admin/webhooks/tenants/{own.tenant.id}/endpoints/{own.endpoint.id}/deliveries/{world.dead}/retry/": {},
        f"/admin/webhooks/tenants/{own.tenant.id}/dead-letters/{world.dead}/replay/": {},
        f"/admin/webhooks/tenants/{own.tenant.id}/dead-letters/replay/": {"letter": [own.dead, world.dead]},
    }
    for path, data in actions.items():
        assert client.post(path, data).status_code == 404, path
    # Nothing changed, in either tenant, and nothing was audited.
    for tenant_world in (world, own):
        tenant, endpoint = tenant_world.tenant, tenant_world.endpoint
        assert endpoint_get(tenant=tenant, webhook_id=endpoint.id).active is True
        assert delivery_get(tenant=tenant, webhook_id=endpoint.id, delivery_id=tenant_world.dead).status == "dead"
        assert _letter(tenant, tenant_world.dead).replayed_at is None
        assert all(_audit(tenant, action) == [] for action in ACTIONS)


def test_a_staff_user_of_no_tenant_sees_none(world):
    client = _client(_user())
    for path in ("/admin/webhooks/endpoints/", "/admin/webhooks/dead-letters/"):
        page = _page(client.get(path))
        assert "member of no tenant" in page
        assert world.tenant.id not in page
    assert client.get(f"/admin/webhooks/endpoints/?tenant={world.tenant.id}").status_code == 404
    assert client.get(_endpoint_url(world)).status_code == 404
    assert client.get(_letter_url(world, world.dead)).status_code == 404
    assert client.post(_letter_url(world, world.dead, "replay/")).status_code == 404
    assert _letter(world.tenant, world.dead).replayed_at is None


@pytest.mark.parametrize("user_kind", ["anonymous", "not staff"])
def test_the_pages_and_actions_are_closed_to_anyone_but_staff(user_kind, world):
    client = Client() if user_kind == "anonymous" else _client(_user(staff=False, tenant=world.tenant))
    pages = ["/admin/webhooks/endpoints/", f"/admin/webhooks/endpoints/?tenant={world.tenant.id}",
             "/admin/webhooks/dead-letters/", _endpoint_url(world), _endpoint_url(world, "deliveries/"),
             _endpoint_url(world, f"deliveries/{world.dead}/"), _letter_url(world, world.dead)]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/"), path
    for path, data in {_endpoint_url(world, "active/"): {"active": "inactive"},
                       _endpoint_url(world, f"deliveries/{world.dead}/retry/"): {},
                       _letter_url(world, world.dead, "replay/"): {},
                       f"/admin/webhooks/tenants/{world.tenant.id}/dead-letters/replay/": {"letter": world.dead}
                       }.items():
        response = client.post(path, data)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/"), path
    assert endpoint_get(tenant=world.tenant, webhook_id=world.endpoint.id).active is True
    assert delivery_get(tenant=world.tenant, webhook_id=world.endpoint.id, delivery_id=world.dead).status == "dead"
    assert _letter(world.tenant, world.dead).replayed_at is None
    assert all(_audit(world.tenant, action) == [] for action in ACTIONS)
