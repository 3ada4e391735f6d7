"""The admin's webhook pages in a real headless Chromium (Debian's `chromium` package, driven by
Playwright over CDP: Playwright's own browser download is never used) against the real server:
an operator logs in, finds a dead letter and replays it with a click.

The server (python -m evaapi.serve) and this test share the suite's var dir, so they share the
embedded store file: what the test makes through the services, the server shows, and what the
click changes, the test reads back. The server's Django database (its users and sessions) is the
var dir's file, not the test database, so the operator is made there with manage.py.

Without /usr/bin/chromium the test is skipped, unless EVA_REQUIRE_BROWSER=1 (as in CI, whose
.ci/run installs the package) makes that a failure."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from evaapi.auth.selectors import audit_log_list
from evaapi.events.domain import event_make
from tests.factories import tenant_make
from tests.http.conftest import PROJECT_DIR, api_server
from tests.webhooks.attempts import claim_one, record_one
from webhooks import repositories
from webhooks.selectors import delivery_get
from webhooks.sender import SendResult
from webhooks.services import endpoint_create, webhooks_publish

CHROMIUM = Path("/usr/bin/chromium")
# Headless in a container (root, no GPU), and quiet: nothing reaches out to Google's services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 20_000


def _browser_required(browser: Path) -> Path:
    """The browser, or a skip naming its package; a failure instead when EVA_REQUIRE_BROWSER=1."""
    if not browser.exists():
        message = f"the admin's browser test needs Debian's chromium package ({browser} is missing): " \
                  "apt-get install chromium"
        if os.environ.get("EVA_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " (EVA_REQUIRE_BROWSER=1)")
        pytest.skip(message)
    return browser


@pytest.fixture(scope="module")
def chromium() -> Path:
    return _browser_required(CHROMIUM)


def _manage(*args: str, env: dict | None = None) -> str:
    """manage.py against the server's own Django database (the var dir's, from this environment)."""
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env={**os.environ, **(env or {})},
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def server_with_operator():
    """The server's base URL and an operator (a superuser) of its database: (url, pk, username, password)."""
    _manage("migrate", "--noinput", "-v", "0")
    username, password = f"operator-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    pk = _manage("shell", "--no-imports", "-c", "import os; from django.contrib.auth import get_user_model; "
                 "print(get_user_model().objects.create_superuser(os.environ['EVA_TEST_USERNAME'], "
                 "password=os.environ['EVA_TEST_PASSWORD']).pk)",
                 env={"EVA_TEST_USERNAME": username, "EVA_TEST_PASSWORD": password}).strip()
    with api_server() as url:
        yield url, pk, username, password


def _dead_letter(settings):
    """A tenant whose endpoint's one delivery failed its only attempt: a dead letter (made here,
    through the services, in the store the server reads)."""
    settings.WEBHOOK_RETRY_SCHEDULE = ["0"]
    tenant = tenant_make()
    endpoint, _ = endpoint_create(tenant=tenant, actor="test", url="https://hooks.example.com/browser",
                                  event_types=["space.*"])
    webhooks_publish(event_make(type="space.created", tenant_id=tenant.id,
                                data={"space_id": str(uuid.uuid4()), "name": "Browsed"}))
    (delivery,), _ = repositories.delivery_page(webhook_id=endpoint.id, status=None, limit=10, continuation=None)
    claimed = claim_one(webhook_id=endpoint.id, delivery_id=delivery.id)
    assert record_one(claimed, SendResult(status_code=503, response_body="down")).status == "dead"
    return tenant, endpoint, delivery.id


def test_an_operator_logs_in_and_replays_a_dead_letter(chromium, server_with_operator, settings):
    url, operator_pk, username, password = server_with_operator
    tenant, endpoint, letter_id = _dead_letter(settings)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(f"{url}/admin/login/?next=/admin/")
            page.fill("#id_username", username)
            page.fill("#id_password", password)
            page.click("input[type=submit]")
            page.wait_for_url(f"{url}/admin/")
            # The index links the pages.
            page.click("#content-main >> text=Dead letters")
            page.wait_for_url(f"{url}/admin/webhooks/dead-letters/")
            page.select_option("#filter-tenant", tenant.id)
            page.click("input[type=submit][value=Filter]")
            row = page.locator(f"#letter-{letter_id}")
            expect(row).to_contain_text("not replayed")
            expect(row).to_contain_text(endpoint.id)
            row.get_by_role("button", name="Replay").click()
            page.wait_for_url(f"{url}/admin/webhooks/tenants/{tenant.id}/dead-letters/{letter_id}/")
            expect(page.locator(".messagelist")).to_contain_text(f"Dead letter replayed: delivery {letter_id} "
                                                                 "is pending: it is sent again now.")
            expect(page.locator("#replayed")).to_contain_text("replayed 20")
            page.click(".breadcrumbs >> text=Webhook dead letters")
            expect(page.locator(f"#letter-{letter_id} .replayed")).to_contain_text("replayed 20")
        except Exception:
            page.screenshot(path=str(PROJECT_DIR / "var" / "test-logs" / "admin-browser-failure.png"))
            raise
        finally:
            browser.close()
    # The store says so: the letter replayed, its delivery due again, the replay audited as the operator's.
    letter = repositories.dead_letter_from_item(repositories.dead_letter_item_read(tenant_id=tenant.id,
                                                                                   letter_id=letter_id))
    assert letter.replayed_at is not None
    assert delivery_get(tenant=tenant, webhook_id=endpoint.id, delivery_id=letter_id).status == "pending"
    entries, _ = audit_log_list(tenant=tenant, filters={"action": "webhook.dead_letter_replay"}, limit=10,
                                continuation=None)
    assert [(e.actor, e.resource_id) for e in entries] == [(f"admin:{operator_pk}", letter_id)]


def test_a_missing_browser_skips_unless_required(monkeypatch, tmp_path):
    missing = tmp_path / "chromium"
    monkeypatch.delenv("EVA_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        _browser_required(missing)
    monkeypatch.setenv("EVA_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="chromium package"):
        _browser_required(missing)
