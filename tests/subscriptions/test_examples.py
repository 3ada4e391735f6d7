"""docs/subscriptions.md's clients run as written against the server: the Node example
(docs/examples/subscribe.mjs, with the graphql-ws client) and the browser page
(docs/examples/subscribe.html, in headless Chromium, served from an allowed origin)."""

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.request

import pytest

from evaapi.devservices.processes import free_port
from tests.factories import api_key_make, tenant_make
from tests.http.conftest import PROJECT_DIR, SERVER_ENV, api_server
from tests.webhooks.test_admin_browser import CHROMIUM_ARGS, TIMEOUT_MS, chromium  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
EXAMPLES = PROJECT_DIR / "docs" / "examples"


def _space(url: str, key: str, name: str) -> None:
    request = urllib.request.Request(url + "/api/v1/spaces", data=json.dumps({"name": name}).encode(), headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=15) as response:
        assert response.status == 201


@pytest.fixture(scope="module")
def page_origin():
    """docs/examples served as a static site: the origin a browser page would come from."""
    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(EXAMPLES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture(scope="module")
def server(page_origin):
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=PROJECT_DIR, env=os.environ,
                   check=True)
    with api_server(env={**SERVER_ENV, "CORS_ALLOWED_ORIGINS": page_origin}) as url:
        yield url


def test_the_node_example_prints_each_event_and_resumes(server):
    tenant = tenant_make()
    key = api_key_make(tenant)
    env = {**os.environ, "EVA_URL": server, "EVA_KEY": key}
    live = subprocess.Popen(["node", str(EXAMPLES / "subscribe.mjs")], env=env, stdout=subprocess.PIPE, text=True,
                            cwd=EXAMPLES)
    try:
        threading.Timer(1.5, _space, (server, key, "Live")).start()
        first = json.loads(live.stdout.readline())
    finally:
        live.kill()
    assert (first["type"], first["data"]["name"]) == ("space.created", "Live")
    _space(server, key, "While away")
    resumed = subprocess.Popen(["node", str(EXAMPLES / "subscribe.mjs")], env={**env, "EVA_AFTER": first["id"]},
                               stdout=subprocess.PIPE, text=True, cwd=EXAMPLES)
    try:
        missed = json.loads(resumed.stdout.readline())
    finally:
        resumed.kill()
    assert missed["data"]["name"] == "While away"


def test_the_browser_example_lists_events_live(server, page_origin, chromium):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    tenant = tenant_make()
    key = api_key_make(tenant)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{page_origin}/subscribe.html#key={key}&api={server}")
            expect(page.locator("#status")).to_have_text("connected", timeout=TIMEOUT_MS)
            page.wait_for_timeout(500)  # the subscription starts right after the ack
            _space(server, key, "Seen in a browser")
            expect(page.locator("#events li")).to_contain_text(["space.created"], timeout=TIMEOUT_MS)
            assert "Seen in a browser" in page.locator("#events li").first.text_content()
        finally:
            browser.close()


def test_a_page_from_an_origin_not_allowed_is_refused(server, chromium):  # noqa: F811
    """The same page served from another origin: its socket is refused at the handshake."""
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(EXAMPLES))
    other = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    key = api_key_make(tenant_make())
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/subscribe.html#key={key}&api={server}")
                expect(page.locator("#status")).to_contain_text("closed", timeout=TIMEOUT_MS)
            finally:
                browser.close()
    finally:
        other.shutdown()
