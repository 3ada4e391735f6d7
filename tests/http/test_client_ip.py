import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings

from evaapi.http.client_ip import client_ip


def _request(remote_addr, forwarded_for=None):
    headers = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)


@override_settings(TRUSTED_PROXIES=[])
def test_untrusted_peer_without_forwarded_for():
    assert client_ip(_request("203.0.113.7")) == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.1"])
def test_untrusted_peer_cannot_spoof_forwarded_for():
    assert client_ip(_request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"
    assert client_ip(_request("203.0.113.7", "10.0.0.1")) == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.1"])
def test_trusted_peer_by_exact_ip_gives_rightmost_entry():
    # The client sent "1.1.1.1" itself; the proxy appended the real peer 198.51.100.9.
    assert client_ip(_request("10.0.0.1", "1.1.1.1, 198.51.100.9")) == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_trusted_peer_by_cidr():
    assert client_ip(_request("10.20.30.40", "198.51.100.9")) == "198.51.100.9"
    assert client_ip(_request("11.0.0.1", "198.51.100.9")) == "11.0.0.1"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "192.168.1.5"])
def test_chain_of_trusted_proxies_is_skipped():
    request = _request("10.0.0.1", "1.1.1.1, 198.51.100.9, 192.168.1.5, 10.0.0.2")
    assert client_ip(request) == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_all_hops_trusted_gives_leftmost():
    assert client_ip(_request("10.0.0.1", "10.0.0.3, 10.0.0.2")) == "10.0.0.3"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_trusted_peer_without_forwarded_for_is_the_client():
    assert client_ip(_request("10.0.0.1")) == "10.0.0.1"
    assert client_ip(_request("10.0.0.1", "")) == "10.0.0.1"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
@pytest.mark.parametrize("forwarded_for", ["not-an-ip", "1.1.1.1, garbage", "198.51.100.9:443", "1.1.1.1, 999.1.1.1"])
def test_malformed_entry_falls_back_to_peer(forwarded_for):
    assert client_ip(_request("10.0.0.1", forwarded_for)) == "10.0.0.1"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_malformed_entry_left_of_an_untrusted_one_is_never_reached():
    assert client_ip(_request("10.0.0.1", "garbage, 198.51.100.9")) == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=["2001:db8::/32", "::1"])
def test_ipv6():
    assert client_ip(_request("2001:db8::1", "2001:db8:1::2, 2606:4700::1111")) == "2606:4700::1111"
    assert client_ip(_request("::1", "2606:4700:0:0:0:0:0:1111")) == "2606:4700::1111"
    assert client_ip(_request("2001:db9::1", "2606:4700::1111")) == "2001:db9::1"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "2001:db8::/32"])
def test_mixed_versions_and_ipv4_mapped_peer():
    assert client_ip(_request("::ffff:10.0.0.1", "2001:db8::5, 198.51.100.9")) == "198.51.100.9"
    assert client_ip(_request("10.0.0.1", "198.51.100.9, 2001:db8::5")) == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/33"])
def test_bad_trusted_proxy_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        client_ip(_request("10.0.0.1", "198.51.100.9"))
