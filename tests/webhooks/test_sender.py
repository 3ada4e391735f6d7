import asyncio
import re
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tests.webhooks.receiver import Receiver
from webhooks.sender import (
    RESPONSE_BODY_LIMIT,
    TRUNCATION_MARKER,
    AddressRefused,
    AllowedAddressResolver,
    SendResult,
    WebhookSender,
    redact_headers,
    retry_after_parse,
)
from webhooks.signing import secret_generate, signature_headers, signature_verify

BODY = b'{"type":"webhook.test","data":{}}'


@pytest.fixture
async def receiver():
    receiver = await Receiver().start()
    yield receiver
    await receiver.stop()


@pytest.fixture
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOWED_TARGETS = ["127.0.0.0/8"]


@pytest.fixture
def nothing_allowed(settings):
    settings.WEBHOOK_ALLOWED_TARGETS = []


async def send(url, *, sender=None, endpoint_key="endpoint-1", headers=None, **options) -> SendResult:
    owned = sender is None
    sender = sender or WebhookSender(**options)
    try:
        return await sender.send(url=url, headers=headers or {}, body=BODY, endpoint_key=endpoint_key)
    finally:
        if owned:
            await sender.close()


@pytest.mark.usefixtures("loopback_allowed")
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_delivery_to_an_allowed_loopback_receiver_succeeds_signed_and_as_sent(receiver, host):
    secret = secret_generate()
    headers = signature_headers(message_id="msg_1", timestamp=int(time.time()), body=BODY, secrets=[secret])
    result = await send(f"http://{host}:{receiver.port}/ok", headers=headers)

    assert result.succeeded, result
    assert (result.status_code, result.error_class, result.response_body) == (200, None, "ok")
    assert result.latency_ms > 0
    [received] = receiver.received
    assert received.body == BODY
    signature_verify(secret=secret, headers=received.headers, body=received.body)
    assert received.headers["User-Agent"] == "EVA-Webhooks/1.0"
    assert received.headers["Content-Type"] == "application/json"
    assert "Authorization" not in received.headers


@pytest.mark.usefixtures("nothing_allowed")
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]"])
async def test_loopback_is_refused_at_connect_time_unless_allowed(receiver, host):
    result = await send(f"http://{host}:{receiver.port}/ok")

    assert not result.succeeded
    assert (result.status_code, result.error_class) == (None, "refused_address")
    assert "WEBHOOK_ALLOWED_TARGETS" in result.error_message
    assert receiver.connections == 0
    assert receiver.received == []


async def test_an_allowed_host_name_admits_its_addresses_and_only_for_that_name(settings, receiver):
    settings.WEBHOOK_ALLOWED_TARGETS = ["localhost"]
    assert (await send(f"http://localhost:{receiver.port}/ok")).succeeded
    refused = await send(f"http://127.0.0.1:{receiver.port}/ok")
    assert refused.error_class == "refused_address"
    assert receiver.paths() == ["/ok"]


async def test_a_resolver_keeps_only_allowed_addresses_so_a_rebound_name_cannot_pass(nothing_allowed):
    class Rebinding:
        """A name that resolves to a public address and to the metadata service's."""

        async def resolve(self, host, port=0, family=socket.AF_INET):
            return [{"hostname": host, "host": address, "port": port, "family": socket.AF_INET, "proto": 0,
                     "flags": 0} for address in ("169.254.169.254", "93.184.216.34", "10.0.0.1")]

        async def close(self):
            pass

    resolver = AllowedAddressResolver(Rebinding())
    assert [result["host"] for result in await resolver.resolve("hooks.example.com", 443)] == ["93.184.216.34"]

    class OnlyPrivate(Rebinding):
        async def resolve(self, host, port=0, family=socket.AF_INET):
            return [result for result in await super().resolve(host, port, family) if result["host"] != "93.184.216.34"]

    with pytest.raises(AddressRefused, match=re.escape("(10.0.0.1, 169.254.169.254)")):
        await AllowedAddressResolver(OnlyPrivate()).resolve("hooks.example.com", 443)


@pytest.mark.usefixtures("loopback_allowed")
async def test_a_redirect_is_a_failed_attempt_and_is_not_followed(receiver):
    result = await send(f"{receiver.base_url}/redirect")

    assert not result.succeeded
    assert (result.status_code, result.error_class) == (302, "redirect")
    assert "/target" in result.error_message
    assert receiver.paths() == ["/redirect"]


@pytest.mark.usefixtures("loopback_allowed")
async def test_a_slow_receiver_times_out_within_the_bound(receiver):
    started = time.monotonic()
    result = await send(f"{receiver.base_url}/slow", timeout_seconds=0.3)

    assert (result.status_code, result.error_class) == (None, "timeout")
    assert "0.3 s" in result.error_message
    assert time.monotonic() - started < 2
    assert receiver.paths() == ["/slow"]


@pytest.mark.usefixtures("loopback_allowed")
async def test_a_closed_port_is_a_connect_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await send(f"http://127.0.0.1:{port}/ok")
    assert (result.status_code, result.error_class) == (None, "connect")


@pytest.mark.usefixtures("loopback_allowed")
async def test_a_503_with_retry_after_is_parsed(receiver):
    result = await send(f"{receiver.base_url}/busy")

    assert (result.status_code, result.error_class, result.retry_after_seconds) == (503, "http_error", 120.0)
    assert result.response_headers["Retry-After"] == "120"
    assert result.response_body == "busy"


@pytest.mark.usefixtures("loopback_allowed")
async def test_a_huge_response_body_is_truncated_at_20_kb(receiver):
    result = await send(f"{receiver.base_url}/huge")

    assert result.succeeded
    assert result.response_body.endswith(TRUNCATION_MARKER)
    kept = result.response_body.removesuffix(TRUNCATION_MARKER)
    assert kept == "x" * RESPONSE_BODY_LIMIT == "x" * 20480


@pytest.mark.usefixtures("loopback_allowed")
async def test_fifty_sends_to_one_endpoint_stay_within_its_limit_and_reuse_connections(receiver):
    async with WebhookSender(concurrency_per_endpoint=5) as sender:
        results = await asyncio.gather(*(
            send(f"{receiver.base_url}/concurrent", sender=sender, endpoint_key="endpoint-1") for _ in range(50)
        ))

    assert all(result.succeeded for result in results)
    assert len(receiver.received) == 50
    assert receiver.max_in_flight == 5
    assert receiver.connections <= 5


@pytest.mark.usefixtures("loopback_allowed")
async def test_the_total_limit_bounds_all_endpoints_together(receiver):
    async with WebhookSender(concurrency=3, concurrency_per_endpoint=10) as sender:
        results = await asyncio.gather(*(
            send(f"{receiver.base_url}/concurrent", sender=sender, endpoint_key=f"endpoint-{n % 4}")
            for n in range(24)
        ))

    assert all(result.succeeded for result in results)
    assert receiver.max_in_flight == 3
    assert len(sender._endpoint_slots) == 0  # no semaphore kept for endpoints with nothing in flight


@pytest.mark.usefixtures("loopback_allowed")
async def test_a_stuck_endpoint_does_not_hold_up_another(receiver):
    async with WebhookSender(concurrency_per_endpoint=2, timeout_seconds=5) as sender:
        stuck = [asyncio.create_task(send(f"{receiver.base_url}/slow", sender=sender, endpoint_key="stuck"))
                 for _ in range(2)]
        other = await send(f"{receiver.base_url}/ok", sender=sender, endpoint_key="healthy")
        assert other.succeeded
        assert not any(task.done() for task in stuck)
        for task in stuck:
            task.cancel()
        await asyncio.gather(*stuck, return_exceptions=True)


@pytest.mark.usefixtures("loopback_allowed")
async def test_no_cookies_are_kept_between_requests(receiver):
    async with WebhookSender() as sender:
        await send(f"{receiver.base_url}/ok", sender=sender)
        await send(f"{receiver.base_url}/ok", sender=sender)
    assert all("Cookie" not in received.headers for received in receiver.received)


async def test_urls_with_credentials_or_another_scheme_are_not_sent(loopback_allowed, receiver):
    for url in (f"http://user:pass@127.0.0.1:{receiver.port}/ok", f"ftp://127.0.0.1:{receiver.port}/ok"):
        assert (await send(url)).error_class == "invalid_url"
    assert receiver.connections == 0


def test_stored_headers_have_the_signature_redacted():
    headers = signature_headers(message_id="msg_1", timestamp=1, body=b"{}", secrets=[secret_generate()])
    assert redact_headers({**headers, "Content-Type": "application/json"}) == {
        "webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "[redacted]",
        "Content-Type": "application/json",
    }
    assert redact_headers({"Webhook-Signature": "v1,abc"}) == {"Webhook-Signature": "[redacted]"}


def test_retry_after_takes_seconds_or_an_http_date():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_parse("120", now=now.timestamp()) == 120.0
    assert retry_after_parse(" 0 ", now=now.timestamp()) == 0.0
    assert retry_after_parse(format_datetime(now + timedelta(minutes=5), usegmt=True), now=now.timestamp()) == 300.0
    assert retry_after_parse(format_datetime(now - timedelta(minutes=5), usegmt=True), now=now.timestamp()) == 0.0
    for invalid in (None, "", "soon", "-5", "1.5", "Mon, 99 Foo 2026 00:00:00 GMT"):
        assert retry_after_parse(invalid, now=now.timestamp()) is None
