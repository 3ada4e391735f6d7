"""docs/subscriptions.md's clients run as written against the server: the Node example
(docs/examples/subscribe.mjs, with the graphql-ws client) and the browser page
(docs/examples/subscribe.html, in headless Chromium, served from an allowed origin)."""

import functools
import http.server
import json
import os
import queue
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


def _first_line(process: subprocess.Popen, timeout: float = 20) -> str:
    """The process's first line of output, or a failure (never a hang) after `timeout`."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        process.kill()
        raise AssertionError("the example printed nothing") from None


def test_the_node_example_prints_each_event_and_resumes(server):
    tenant = tenant_make()
    key = api_key_make(tenant)
    env = {**os.environ, "EVA_URL": server, "EVA_KEY": key}
    live = subprocess.Popen(["node", str(EXAMPLES / "subscribe.mjs")], env=env, stdout=subprocess.PIPE, text=True,
                            cwd=EXAMPLES)
    # The example says nothing until an event comes, so spaces are made until one is printed
    # (the first may come before its subscription listens).
    stop = threading.Event()

    def raise_events():
        for n in range(20):
            if stop.wait(1.0):
                return
            _space(server, key, f"Live {n}")

    threading.Thread(target=raise_events, daemon=True).start()
    try:
        first = json.loads(_first_line(live))
    finally:
        stop.set()
        live.kill()
    assert first["type"] == "space.created"
    assert first["data"]["name"].startswith("Live")
    _space(server, key, "While away")
    resumed = subprocess.Popen(["node", str(EXAMPLES / "subscribe.mjs")], env={**env, "EVA_AFTER": first["id"]},
                               stdout=subprocess.PIPE, text=True, cwd=EXAMPLES)
    try:
        missed = [json.loads(_first_line(resumed))]
        while missed[-1]["data"]["name"] != "While away" and len(missed) < 25:
            missed.append(json.loads(_first_line(resumed)))
    finally:
        resumed.kill()
    # Replayed from the event printed on: each later one once, the space made while away last.
    assert missed[-1]["data"]["name"] == "While away"
    ids = [event["id"] for event in missed]
    assert len(set(ids)) == len(ids)
    assert first["id"] not in ids


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
