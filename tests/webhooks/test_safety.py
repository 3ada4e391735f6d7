import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured

from webhooks.safety import UnsafeUrl, address_allowed, allowed_targets_parse, url_check


@pytest.fixture(autouse=True)
def _no_exceptions(settings):
    settings.WEBHOOK_ALLOWED_TARGETS = []


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", False),
        ("127.255.0.9", False),
        ("10.1.2.3", False),
        ("172.16.5.4", False),
        ("172.31.255.255", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata services
        ("100.64.0.1", False),  # shared address space (CGNAT)
        ("100.127.255.254", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("192.0.2.10", False),  # documentation
        ("198.18.0.1", False),  # benchmarking
        ("::1", False),
        ("::", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("ff02::1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2001:db8::1", False),
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("172.32.0.1", True),
        ("100.128.0.1", True),
        ("2001:4860:4860::8888", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_only_public_addresses_are_allowed(address, allowed):
    assert address_allowed(ipaddress.ip_address(address), host="receiver.example.com") is allowed


@pytest.mark.parametrize(
    ("targets", "address", "host", "allowed"),
    [
        (["127.0.0.0/8"], "127.0.0.1", "localhost", True),
        (["127.0.0.0/8"], "127.8.9.10", "127.8.9.10", True),
        (["127.0.0.0/8"], "::ffff:127.0.0.1", "localhost", True),
        (["127.0.0.0/8"], "::1", "localhost", False),
        (["127.0.0.0/8"], "10.0.0.1", "localhost", False),
        (["10.0.0.0/8", "192.168.0.0/16"], "192.168.7.7", "x", True),
        (["10.0.0.5"], "10.0.0.5", "internal", True),
        (["10.0.0.5"], "10.0.0.6", "internal", False),
        (["::1/128"], "::1", "localhost", True),
        (["receiver.internal"], "10.20.30.40", "receiver.internal", True),
        (["receiver.internal"], "10.20.30.40", "RECEIVER.Internal.", True),
        (["receiver.internal"], "10.20.30.40", "other.internal", False),
        (["receiver.internal"], "10.20.30.40", "sub.receiver.internal", False),
    ],
)
def test_allowed_targets_admit_hosts_and_networks(settings, targets, address, host, allowed):
    settings.WEBHOOK_ALLOWED_TARGETS = targets
    assert address_allowed(ipaddress.ip_address(address), host=host) is allowed


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "not a host", "https://x.example.com", "a..b"])
def test_allowed_targets_with_a_typo_are_a_configuration_error(entry):
    with pytest.raises(ImproperlyConfigured, match="WEBHOOK_ALLOWED_TARGETS"):
        allowed_targets_parse((entry,))


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://hooks.example.com/eva", "https://hooks.example.com/eva"),
        ("  HTTPS://Hooks.Example.COM:443/eva?x=1#frag ", "https://hooks.example.com/eva?x=1"),
        ("https://hooks.example.com", "https://hooks.example.com/"),
        ("https://hooks.example.com:8443/p", "https://hooks.example.com:8443/p"),
        ("https://8.8.8.8/hook", "https://8.8.8.8/hook"),
        ("https://[2001:4860:4860:0::8888]/hook", "https://[2001:4860:4860::8888]/hook"),
        ("https://bücher.example/hook", "https://xn--bcher-kva.example/hook"),
        ("http://localhost:8080/hook", "http://localhost:8080/hook"),  # names are checked when connecting
    ],
)
def test_acceptable_urls_come_back_normalised(url, normalised):
    assert url_check(url) == normalised


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "empty"),
        ("hooks.example.com/eva", "https://"),
        ("/eva", "https://"),
        ("ftp://hooks.example.com/", "https://"),
        ("javascript:alert(1)", "https://"),
        ("https:///eva", "no host"),
        ("https://user:pass@hooks.example.com/", "credentials"),
        ("https://token@hooks.example.com/", "credentials"),
        ("https://hooks.example.com:99999/", "not valid"),
        ("https://hooks example.com/", "spaces"),
        ("https://hooks.example.com/\r\nX-Injected: 1", "control"),
        ("https://127.0.0.1/", "not a public"),
        ("https://10.0.0.1:8443/", "not a public"),
        ("https://169.254.169.254/latest/meta-data", "not a public"),
        ("https://[::1]/", "not a public"),
        ("https://[::ffff:10.0.0.1]/", "not a public"),
        ("https://2130706433/", "four decimal numbers"),
        ("https://127.1/", "four decimal numbers"),
        ("https://0x7f.0.0.1/", "four decimal numbers"),
        # The root's trailing dot: an address still, for a resolver and for the sender.
        ("http://127.0.0.1./", "not a public"),
        ("https://169.254.169.254.:80/latest", "not a public"),
        ("https://999.0.0.1/", "not valid"),  # digits and dots that are no address
        ("https://hooks.example.com/" + "a" * 2048, "longer than 2048"),
    ],
)
def test_unsafe_urls_are_refused_with_a_reason(url, reason):
    with pytest.raises(UnsafeUrl, match=reason):
        url_check(url)


def test_plain_http_is_refused_in_production_and_allowed_in_development_and_test(settings):
    settings.EVA_ENV = "production"
    with pytest.raises(UnsafeUrl, match="https"):
        url_check("http://hooks.example.com/")
    assert url_check("https://hooks.example.com/") == "https://hooks.example.com/"
    for environment in ("development", "test"):
        settings.EVA_ENV = environment
        assert url_check("http://hooks.example.com/") == "http://hooks.example.com/"


def test_an_allowed_literal_address_may_be_registered(settings):
    settings.WEBHOOK_ALLOWED_TARGETS = ["127.0.0.0/8"]
    assert url_check("http://127.0.0.1:9000/hook") == "http://127.0.0.1:9000/hook"
    assert url_check("http://127.0.0.1.:9000/hook") == "http://127.0.0.1:9000/hook"
    with pytest.raises(UnsafeUrl, match="not a public"):
        url_check("http://10.0.0.1/hook")
