"""Verification of Microsoft Entra ID access tokens (RS256 JWTs signed with the tenant's published keys)."""

import json
import logging
import threading
import time
from dataclasses import dataclass

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.conf import settings
from jwt.algorithms import RSAAlgorithm

from evaapi.auth.domain import TokenInvalid
from evaapi.auth.scopes import scopes_normalize

logger = logging.getLogger(__name__)

# Entra ID signs access tokens with RS256 only; accepting anything else opens algorithm-confusion attacks.
ALGORITHM = "RS256"
# A token with an unknown `kid` may trigger a refresh, so forged kids must not let clients hammer the IdP.
KEYS_REFRESH_INTERVAL_SECONDS = 60
# A slow IdP must not hold request workers for long; a failed fetch rejects the token instead.
KEYS_FETCH_TIMEOUT_SECONDS = 3
# Keys are trusted this long after they were fetched (Microsoft rotates signing keys and asks
# clients to refresh at least daily); past it they are fetched again before use.
KEYS_MAX_AGE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class EntraIdentity:
    tenant_id: str
    subject: str
    scopes: frozenset[str]
    client_id: str | None


class _KeysUnavailable(Exception):
    pass


class _SigningKeys:
    """The IdP's public keys by `kid`, shared by all threads of the process.

    The lock guards only the cache, never the fetch: a token with a known key never waits for
    one, and while a fetch is in flight other requests that need it wait for that one fetch
    (bounded) instead of starting their own. Keys older than KEYS_MAX_AGE_SECONDS are not
    trusted until fetched again, so a key the IdP withdrew stops working within that time."""

    def __init__(self):
        self._lock = threading.Lock()
        self.clock = time.monotonic  # replaceable so tests can move the time on
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._source: tuple[str, str] | None = None
            self._keys: dict[str, RSAPublicKey] = {}
            self._fetched_at: float | None = None  # last successful fetch
            self._attempted_at: float | None = None  # last fetch started, failed ones too
            self._in_flight: threading.Event | None = None

    def get(self, *, kid: str, source: tuple[str, str]) -> RSAPublicKey:
        waited = False
        while True:
            with self._lock:
                if source != self._source:
                    # Settings changed (tests); keys of another authority must not verify this one's.
                    self._source, self._keys, self._fetched_at, self._attempted_at = source, {}, None, None
                now = self.clock()
                fresh = self._fetched_at is not None and now - self._fetched_at < KEYS_MAX_AGE_SECONDS
                key = self._keys.get(kid) if fresh else None
                if key is not None:
                    return key
                if self._in_flight is not None and not waited:
                    in_flight, fetching = self._in_flight, False
                elif self._attempted_at is not None and now - self._attempted_at < KEYS_REFRESH_INTERVAL_SECONDS:
                    # Asked recently (failed attempts count too, so an unreachable IdP is not
                    # asked by every request): refuse rather than ask again.
                    raise TokenInvalid("unknown signing key" if fresh and self._keys else "signing keys unavailable")
                else:
                    self._attempted_at = now
                    in_flight = self._in_flight = threading.Event()
                    fetching = True
            if not fetching:
                # Someone else's fetch answers for us too; then look again, without fetching.
                in_flight.wait(2 * KEYS_FETCH_TIMEOUT_SECONDS + 1)
                waited = True
                continue
            keys = None
            try:
                keys = _jwks_fetch(jwks_url=source[0], authority=source[1])
            except _KeysUnavailable as error:
                # The cause goes to the log only; the client just learns the keys could not be had.
                logger.warning("entra signing keys unavailable: %s", error)
            finally:
                with self._lock:
                    if keys is not None and source == self._source:
                        self._keys, self._fetched_at = keys, self.clock()
                    self._in_flight = None
                in_flight.set()
            waited = True


_signing_keys = _SigningKeys()


def _reset_cache() -> None:
    """Forget the cached keys and the last refresh time (tests)."""
    _signing_keys.clear()


def _json_get(url: str) -> dict:
    try:
        response = requests.get(url, timeout=KEYS_FETCH_TIMEOUT_SECONDS)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise _KeysUnavailable(str(error)) from error
    if not isinstance(document, dict):
        raise _KeysUnavailable(f"{url} did not return a JSON object")
    return document


def _jwks_fetch(*, jwks_url: str, authority: str) -> dict[str, RSAPublicKey]:
    if not jwks_url:
        discovery = _json_get(authority.rstrip("/") + "/.well-known/openid-configuration")
        jwks_url = discovery.get("jwks_uri")
        if not isinstance(jwks_url, str) or not jwks_url:
            raise _KeysUnavailable("openid-configuration has no jwks_uri")
    entries = _json_get(jwks_url).get("keys")
    if not isinstance(entries, list):
        raise _KeysUnavailable("JWKS has no keys")
    keys = {}
    for entry in entries:
        # Only RSA keys: an `oct` (HMAC) entry must never be able to verify a token.
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig":
            continue
        try:
            key = RSAAlgorithm.from_jwk(json.dumps(entry))
        except (jwt.PyJWTError, ValueError, TypeError):
            continue  # one malformed entry must not take down the others
        if isinstance(key, RSAPublicKey):
            keys[entry["kid"]] = key
    return keys


def _issuers_allowed() -> set[str]:
    issuers = set(settings.ENTRA_ALLOWED_ISSUERS)
    for tid in settings.ENTRA_ALLOWED_TENANT_IDS:
        issuers.add(f"https://login.microsoftonline.com/{tid}/v2.0")
        issuers.add(f"https://sts.windows.net/{tid}/")
    return issuers


def entra_enabled() -> bool:
    return bool(settings.ENTRA_AUDIENCE) and bool(settings.ENTRA_ALLOWED_ISSUERS or settings.ENTRA_ALLOWED_TENANT_IDS)


_CLAIM_ERRORS = (
    # Most specific first: several of these subclass DecodeError or InvalidTokenError.
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidAudienceError, "audience not allowed"),
    (jwt.InvalidIssuerError, "issuer not allowed"),
    (jwt.InvalidIssuedAtError, "invalid iat claim"),
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.InvalidSignatureError, "invalid signature"),
    (jwt.DecodeError, "malformed token"),
)


def _reason(error: jwt.PyJWTError) -> str:
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"token has no {error.claim} claim"
    for error_type, reason in _CLAIM_ERRORS:
        if isinstance(error, error_type):
            return reason
    return "invalid token"


def entra_token_verify(token: str) -> EntraIdentity:
    """The identity an Entra ID access token proves; raises TokenInvalid with a client-safe reason."""
    if not entra_enabled():
        raise TokenInvalid("entra id tokens not accepted")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenInvalid("malformed token") from None
    # Checked before any key lookup so `none`/HS256 tokens cost nothing and never reach a key.
    if header.get("alg") != ALGORITHM:
        raise TokenInvalid("algorithm not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenInvalid("token has no key id")
    key = _signing_keys.get(kid=kid, source=(settings.ENTRA_JWKS_URL, settings.ENTRA_AUTHORITY))
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[ALGORITHM],
            audience=settings.ENTRA_AUDIENCE,
            issuer=_issuers_allowed(),
            leeway=settings.ENTRA_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "tid"], "strict_aud": True},
        )
    except jwt.PyJWTError as error:
        raise TokenInvalid(_reason(error)) from None

    tenant_id = claims["tid"]
    if not isinstance(tenant_id, str):
        raise TokenInvalid("invalid tid claim")
    allowed_tenants = settings.ENTRA_ALLOWED_TENANT_IDS
    if allowed_tenants and tenant_id not in allowed_tenants:
        raise TokenInvalid("tenant not allowed")
    subject = claims.get("oid") or claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise TokenInvalid("token has no subject")

    scp = claims.get("scp")
    roles = claims.get("roles")
    values = (scp.split() if isinstance(scp, str) else []) + (roles if isinstance(roles, list) else [])
    client_id = claims.get("azp") or claims.get("appid")
    return EntraIdentity(
        tenant_id=tenant_id,
        subject=subject,
        scopes=scopes_normalize(values),
        client_id=client_id if isinstance(client_id, str) else None,
    )
