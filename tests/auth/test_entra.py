import threading
import time

import pytest
from cryptography.hazmat.primitives import serialization
from django.test import override_settings

from evaapi.auth import entra
from evaapi.auth.entra import EntraIdentity, TokenInvalid, entra_enabled, entra_token_verify
from tests.auth.jwks_server import (
    DISCOVERY_PATH,
    KEYS_PATH,
    OTHER_TENANT_ID,
    TENANT_ID,
    claims_default,
    mint,
    rsa_key,
    token_by_hand,
)

pytestmark = pytest.mark.usefixtures("entra_settings")


def primary_token(overrides=None, **options):
    return mint(overrides, key=rsa_key("primary"), kid="key-1", **options)


def public_pem() -> bytes:
    return (
        rsa_key("primary")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def test_valid_token_gives_identity(entra_settings):
    token = primary_token({"roles": ["audit.read", "not.a.scope"]})

    identity = entra_token_verify(token)

    assert identity == EntraIdentity(
        tenant_id=TENANT_ID,
        subject="0b1c2d3e-user-object-id",
        scopes=frozenset({"spaces:read", "documents:write", "audit:read"}),
        client_id="client-app-id",
    )
    assert entra_settings.hits[DISCOVERY_PATH] == 1
    assert entra_settings.hits[KEYS_PATH] == 1


def test_subject_falls_back_to_sub_and_client_to_appid():
    token = primary_token({"appid": "v1-client"}, omit=("oid", "azp", "scp"))

    identity = entra_token_verify(token)

    assert identity.subject == "pairwise-subject"
    assert identity.client_id == "v1-client"
    assert identity.scopes == frozenset()


def test_v1_issuer_of_allowed_tenant_is_accepted():
    token = primary_token({"iss": f"https://sts.windows.net/{TENANT_ID}/"})

    assert entra_token_verify(token).tenant_id == TENANT_ID


def test_keys_are_cached_between_tokens(entra_settings):
    for _ in range(3):
        entra_token_verify(primary_token())

    assert entra_settings.hits[KEYS_PATH] == 1


BAD_TOKENS = {
    "foreign key, known kid": (
        lambda: mint(key=rsa_key("foreign"), kid="key-1"),
        "invalid signature",
    ),
    "foreign key, unknown kid": (
        lambda: mint(key=rsa_key("foreign"), kid="key-foreign"),
        "unknown signing key",
    ),
    "no kid": (lambda: mint(key=rsa_key("primary"), kid=None), "token has no key id"),
    "foreign issuer": (
        lambda: primary_token({"iss": f"https://login.microsoftonline.com/{OTHER_TENANT_ID}/v2.0"}),
        "issuer not allowed",
    ),
    "wrong audience": (lambda: primary_token({"aud": "api://other"}), "audience not allowed"),
    "audience list": (lambda: primary_token({"aud": ["api://eva", "api://other"]}), "audience not allowed"),
    "missing audience": (lambda: primary_token(omit=("aud",)), "token has no aud claim"),
    "expired beyond leeway": (
        lambda: primary_token({"exp": int(time.time()) - 120}),
        "token expired",
    ),
    "nbf in the future": (
        lambda: primary_token({"nbf": int(time.time()) + 600}),
        "token not yet valid",
    ),
    "iat in the future": (
        lambda: primary_token({"iat": int(time.time()) + 600}),
        "token not yet valid",
    ),
    "missing exp": (lambda: primary_token(omit=("exp",)), "token has no exp claim"),
    "missing iat": (lambda: primary_token(omit=("iat",)), "token has no iat claim"),
    "tid not allowed": (lambda: primary_token({"tid": OTHER_TENANT_ID}), "tenant not allowed"),
    "missing tid": (lambda: primary_token(omit=("tid",)), "token has no tid claim"),
    "no subject": (lambda: primary_token(omit=("oid", "sub")), "token has no subject"),
    "alg none": (
        lambda: token_by_hand({"alg": "none", "typ": "JWT", "kid": "key-1"}, claims_default()),
        "algorithm not allowed",
    ),
    "HS256 keyed with the public key": (
        lambda: token_by_hand(
            {"alg": "HS256", "typ": "JWT", "kid": "key-1"}, claims_default(), hmac_secret=public_pem()
        ),
        "algorithm not allowed",
    ),
    "RS256 header, no signature": (
        lambda: token_by_hand({"alg": "RS256", "typ": "JWT", "kid": "key-1"}, claims_default()),
        "invalid signature",
    ),
    "not a JWT": (lambda: "not-a-jwt", "malformed token"),
}


@pytest.mark.parametrize(("make_token", "reason"), BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_bad_token_is_rejected(make_token, reason):
    token = make_token()

    with pytest.raises(TokenInvalid) as raised:
        entra_token_verify(token)

    assert str(raised.value) == reason


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_wrong_alg_is_rejected_before_any_key_lookup(entra_settings, alg):
    token = token_by_hand({"alg": alg, "kid": "key-1"}, claims_default(), hmac_secret=public_pem())

    with pytest.raises(TokenInvalid, match="algorithm not allowed"):
        entra_token_verify(token)

    assert sum(entra_settings.hits.values()) == 0


def test_expired_within_leeway_is_accepted():
    token = primary_token({"exp": int(time.time()) - 30})

    assert entra_token_verify(token).tenant_id == TENANT_ID


def test_issuer_allowed_by_list_without_tenant_list():
    issuer = f"https://login.microsoftonline.com/{OTHER_TENANT_ID}/v2.0"
    token = primary_token({"iss": issuer, "tid": OTHER_TENANT_ID})

    with override_settings(ENTRA_ALLOWED_ISSUERS=[issuer], ENTRA_ALLOWED_TENANT_IDS=[]):
        assert entra_token_verify(token).tenant_id == OTHER_TENANT_ID


def test_key_rotation_refreshes_once_per_minute(entra_settings, keys_clock):
    server = entra_settings
    entra_token_verify(primary_token())
    assert server.hits[KEYS_PATH] == 1

    # A key published after the first fetch is picked up by exactly one refresh.
    keys_clock.advance(61)
    server.key_add("key-2", rsa_key("second"))
    identity = entra_token_verify(mint(key=rsa_key("second"), kid="key-2"))
    assert identity.tenant_id == TENANT_ID
    assert server.hits[KEYS_PATH] == 2

    # Another new kid within the same minute is rejected without asking the server.
    keys_clock.advance(30)
    server.key_add("key-3", rsa_key("third"))
    third_token = mint(key=rsa_key("third"), kid="key-3")
    with pytest.raises(TokenInvalid, match="unknown signing key"):
        entra_token_verify(third_token)
    assert server.hits[KEYS_PATH] == 2

    # Known keys keep working from the cache meanwhile; after the minute the new kid is fetched.
    entra_token_verify(primary_token())
    assert server.hits[KEYS_PATH] == 2
    keys_clock.advance(31)
    entra_token_verify(third_token)
    assert server.hits[KEYS_PATH] == 3


def test_rotated_out_key_is_dropped_on_refresh(entra_settings, keys_clock):
    server = entra_settings
    old_token = primary_token()
    entra_token_verify(old_token)

    server.keys_rotate({"key-2": rsa_key("second")})
    keys_clock.advance(61)
    entra_token_verify(mint(key=rsa_key("second"), kid="key-2"))

    with pytest.raises(TokenInvalid, match="unknown signing key"):
        entra_token_verify(old_token)


def test_concurrent_unknown_kid_fetches_once(entra_settings):
    token = primary_token()
    results = []

    def verify():
        results.append(entra_token_verify(token).tenant_id)

    threads = [threading.Thread(target=verify) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert results == [TENANT_ID] * 8
    assert entra_settings.hits[KEYS_PATH] == 1


def test_jwks_url_setting_skips_discovery(entra_settings):
    with override_settings(ENTRA_JWKS_URL=entra_settings.url + KEYS_PATH, ENTRA_AUTHORITY="http://127.0.0.1:9"):
        entra_token_verify(primary_token())

    assert entra_settings.hits[DISCOVERY_PATH] == 0
    assert entra_settings.hits[KEYS_PATH] == 1


def test_jwks_server_down_is_token_invalid(entra_settings):
    token = primary_token()
    entra_settings.stop()

    with pytest.raises(TokenInvalid) as raised:
        entra_token_verify(token)

    assert type(raised.value) is TokenInvalid
    assert str(raised.value) == "signing keys unavailable"


def test_jwks_server_hanging_is_token_invalid_within_timeout(entra_settings, monkeypatch):
    monkeypatch.setattr(entra, "KEYS_FETCH_TIMEOUT_SECONDS", 0.3)
    entra_settings.stalled = True
    started = time.monotonic()

    with pytest.raises(TokenInvalid, match="signing keys unavailable"):
        entra_token_verify(primary_token())

    assert time.monotonic() - started < 2


def test_failed_fetch_is_not_retried_within_the_minute(entra_settings, keys_clock):
    server = entra_settings
    server.failing = True
    with pytest.raises(TokenInvalid, match="signing keys unavailable"):
        entra_token_verify(primary_token())
    with pytest.raises(TokenInvalid, match="signing keys unavailable"):
        entra_token_verify(primary_token())
    assert server.hits[DISCOVERY_PATH] == 1

    server.failing = False
    keys_clock.advance(61)
    assert entra_token_verify(primary_token()).tenant_id == TENANT_ID


@pytest.mark.parametrize(
    ("overrides", "enabled"),
    [
        ({}, True),
        ({"ENTRA_AUDIENCE": ""}, False),
        ({"ENTRA_ALLOWED_TENANT_IDS": []}, False),
        ({"ENTRA_ALLOWED_TENANT_IDS": [], "ENTRA_ALLOWED_ISSUERS": ["https://issuer.example/"]}, True),
    ],
)
def test_entra_enabled(overrides, enabled):
    with override_settings(**overrides):
        assert entra_enabled() is enabled


def test_disabled_entra_rejects_every_token():
    with override_settings(ENTRA_AUDIENCE=""), pytest.raises(TokenInvalid, match="not accepted"):
        entra_token_verify(primary_token())


# --- the key cache under concurrency and age -------------------------------------------------
def test_a_slow_fetch_does_not_hold_requests_whose_key_is_known(entra_settings, keys_clock):
    server = entra_settings
    entra_token_verify(primary_token())
    keys_clock.advance(61)
    server.stalled = True
    outcome = []
    stuck = threading.Thread(
        target=lambda: outcome.append(_verify_or_reason(mint(key=rsa_key("other"), kid="key-9"))), daemon=True
    )
    stuck.start()
    _wait_for(lambda: server.hits[DISCOVERY_PATH] == 2)  # its fetch is at the (stalled) IdP
    # The cache's lock is not held across that fetch: a known key verifies meanwhile.
    assert entra_token_verify(primary_token()).tenant_id == TENANT_ID
    assert stuck.is_alive()
    server.stop()
    stuck.join(timeout=15)
    assert outcome == ["unknown signing key"]  # the fetch failed; key-9 is not among the keys it has


def test_concurrent_requests_for_a_new_key_share_one_fetch(entra_settings, keys_clock):
    server = entra_settings
    entra_token_verify(primary_token())
    keys_clock.advance(61)
    server.key_add("key-2", rsa_key("second"))
    server.delay = 0.3
    token = mint(key=rsa_key("second"), kid="key-2")
    results = []
    threads = [threading.Thread(target=lambda: results.append(_verify_or_reason(token))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert results == [TENANT_ID] * 6
    assert server.hits[KEYS_PATH] == 2  # the first fetch, and one for all six


def test_keys_past_their_maximum_age_are_fetched_again_before_use(entra_settings, keys_clock):
    server = entra_settings
    entra_token_verify(primary_token())
    keys_clock.advance(entra.KEYS_MAX_AGE_SECONDS + 1)
    entra_token_verify(primary_token())
    assert server.hits[KEYS_PATH] == 2
    # A key the IdP no longer vouches for (it cannot be asked) is not trusted past that age.
    server.failing = True
    keys_clock.advance(entra.KEYS_MAX_AGE_SECONDS + 1)
    with pytest.raises(TokenInvalid, match="signing keys unavailable"):
        entra_token_verify(primary_token())


def _verify_or_reason(token: str) -> str:
    try:
        return entra_token_verify(token).tenant_id
    except TokenInvalid as exc:
        return str(exc)


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)
