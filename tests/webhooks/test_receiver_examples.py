"""The receivers docs/webhooks.md shows run, as customers would run them, and verify what EVA signs."""

import os
import re
import selectors
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from webhooks.signing import secret_generate, signature_headers

PROJECT_DIR = Path(__file__).resolve().parents[2]
EXAMPLES = PROJECT_DIR / "docs" / "examples"
BODY = b'{"id":"3f1c","type":"webhook.test","tenant_id":"t1","timestamp":"2026-01-01T00:00:00Z","data":{}}'
COMMANDS = {
    "python": [sys.executable, str(EXAMPLES / "verify_webhook.py")],
    "node": [shutil.which("node") or "node", str(EXAMPLES / "verify_webhook.mjs")],
}


@pytest.fixture(params=sorted(COMMANDS))
def example(request):
    """The example receiver running on a free loopback port: (its URL, its secret)."""
    secret = secret_generate()
    process = subprocess.Popen(
        COMMANDS[request.param],
        env={**os.environ, "WEBHOOK_SECRET": secret, "PORT": "0", "HOST": "127.0.0.1"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            ready = selector.select(timeout=15)
        line = process.stdout.readline() if ready else ""
        listening = re.match(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert listening, f"the example did not start: {line!r} {process.stderr.read() if not ready else ''}"
        yield listening.group(1), secret
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def post(url, headers, body=BODY) -> int:
    request = urllib.request.Request(url + "/webhooks/eva", data=body, method="POST",
                                     headers={**headers, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def signed(*secrets, timestamp=None, message_id="msg_1", body=BODY):
    return signature_headers(message_id=message_id, timestamp=timestamp or int(time.time()), body=body,
                             secrets=list(secrets))


def test_the_example_accepts_a_signed_delivery_and_refuses_a_tampered_one(example):
    url, secret = example
    assert post(url, signed(secret)) == 204
    assert post(url, signed(secret, message_id="msg_2"), body=BODY.replace(b"webhook.test", b"space.deleted")) == 401


def test_the_example_accepts_either_signature_during_a_rotation(example):
    url, secret = example
    assert post(url, signed(secret_generate(), secret)) == 204
    assert post(url, signed(secret, secret_generate(), message_id="msg_2")) == 204
    assert post(url, signed(secret_generate(), message_id="msg_3")) == 401


def test_the_example_refuses_an_old_timestamp_and_missing_headers(example):
    url, secret = example
    assert post(url, signed(secret, timestamp=int(time.time()) - 600)) == 401
    headers = signed(secret)
    del headers["webhook-timestamp"]
    assert post(url, headers) == 401


def test_the_example_acknowledges_a_repeated_delivery(example):
    url, secret = example
    assert post(url, signed(secret, message_id="msg_again")) == 204
    assert post(url, signed(secret, message_id="msg_again")) == 204


@pytest.mark.parametrize("name", ["verify_webhook.py", "verify_webhook.mjs"])
def test_the_guide_shows_each_example_as_it_is(name):
    guide = (PROJECT_DIR / "docs" / "webhooks.md").read_text()
    assert f"examples/{name}" in guide
    assert (EXAMPLES / name).read_text().strip() in guide
