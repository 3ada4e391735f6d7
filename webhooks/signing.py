"""Webhook signatures (the Standard Webhooks spec) and the encryption of endpoints' secrets at rest.

A delivery carries three headers: `webhook-id` (the same on every attempt of one delivery, so a
receiver can drop repeats), `webhook-timestamp` (Unix seconds of this attempt) and
`webhook-signature`: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per secret,
space-separated (during a rotation the previous secret signs too). The HMAC key is the base64
part of the `whsec_...` secret. What is signed is the exact bytes sent.

Secrets are stored encrypted with Fernet (AES-128-CBC + HMAC-SHA256), its key derived from
WEBHOOK_SECRETS_KEY; tokens written under a key listed in WEBHOOK_SECRETS_KEY_PREVIOUS still
decrypt, so that key can be rotated.
"""

import base64
import binascii
import functools
import hmac
import re
import secrets as _random
import time
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"
HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"
DEFAULT_TOLERANCE_SECONDS = 300

_KDF_INFO = b"eva-webhooks:endpoint-secrets:fernet-key:v1"
_MESSAGE_ID = re.compile(r"[^.\s]+")


class InvalidSecret(ValueError):
    """Not a `whsec_<base64>` signing secret."""


class SignatureInvalid(Exception):
    """A request's signature does not verify; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted: the token was encrypted under another
    WEBHOOK_SECRETS_KEY (and none of WEBHOOK_SECRETS_KEY_PREVIOUS), or it was altered."""


# --- secrets --------------------------------------------------------------------------------------
def secret_generate() -> str:
    """A new signing secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret: its base64 part decoded (the `whsec_` prefix is optional, as in
    the spec's reference libraries; missing base64 padding is tolerated)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSecret("a webhook secret is 'whsec_' followed by base64") from None
    if not key:
        raise InvalidSecret("the webhook secret is empty")
    return key


@functools.lru_cache(maxsize=8)
def _fernet(key: str, previous: tuple[str, ...]) -> MultiFernet:
    if not key:
        raise ImproperlyConfigured("WEBHOOK_SECRETS_KEY is not set: webhook secrets cannot be stored")
    return MultiFernet([_fernet_for(value) for value in (key, *previous)])


def _fernet_for(value: str) -> Fernet:
    # HKDF stretches any long random string into exactly the 32 bytes Fernet takes, and keeps this
    # key unrelated to other keys derived from the same setting.
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(value.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _secrets_fernet() -> MultiFernet:
    return _fernet(settings.WEBHOOK_SECRETS_KEY, tuple(settings.WEBHOOK_SECRETS_KEY_PREVIOUS))


def secret_encrypt(secret: str) -> str:
    """The secret as stored: a Fernet token under the current WEBHOOK_SECRETS_KEY."""
    return _secrets_fernet().encrypt(secret.encode()).decode("ascii")


def secret_decrypt(token: str) -> str:
    """The secret a `secret_encrypt` token holds; SecretDecryptionError if no configured key opens
    it or it was altered."""
    try:
        return _secrets_fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError):
        raise SecretDecryptionError(
            "cannot decrypt a stored webhook secret: it was encrypted under another WEBHOOK_SECRETS_KEY "
            "(list the earlier key in WEBHOOK_SECRETS_KEY_PREVIOUS) or it was altered"
        ) from None


def secret_reencrypt(token: str) -> str:
    """The token under the current key (after a WEBHOOK_SECRETS_KEY rotation); same errors as
    `secret_decrypt`."""
    try:
        return _secrets_fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise SecretDecryptionError("cannot re-encrypt a stored webhook secret: no configured key opens it") from None


# --- signatures -----------------------------------------------------------------------------------
def signature_compute(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of `<id>.<timestamp>.<body>`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.digest(secret_key(secret), signed, "sha256")
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_headers(*, message_id: str, timestamp: int, body: bytes, secrets: list[str]) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt, signed by every secret given (the
    current one first; during a rotation, the previous one too)."""
    # The id and timestamp are ours, never the customer's; a "." in either would make the signed
    # string ambiguous.
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError("a webhook message id must be non-empty, without '.' or spaces")
    if not secrets:
        raise ValueError("a webhook needs at least one secret to sign with")
    timestamp = int(timestamp)
    signatures = " ".join(
        signature_compute(secret=secret, message_id=message_id, timestamp=timestamp, body=body) for secret in secrets
    )
    return {HEADER_ID: message_id, HEADER_TIMESTAMP: str(timestamp), HEADER_SIGNATURE: signatures}


def signature_verify(
    *,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: int | None = None,
) -> None:
    """What a receiver does: returns if one of the `v1` signatures is `secret`'s over this body, id
    and timestamp, and the timestamp is within `tolerance_seconds` of `now`; raises
    SignatureInvalid otherwise. Header names are matched case-insensitively."""
    lowered = {name.lower(): value for name, value in headers.items()}
    for name in (HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE):
        if not lowered.get(name):
            raise SignatureInvalid(f"missing header {name}")
    message_id, raw_timestamp = lowered[HEADER_ID], lowered[HEADER_TIMESTAMP].strip()
    if not raw_timestamp.isascii() or not raw_timestamp.isdigit():
        raise SignatureInvalid("webhook-timestamp is not a Unix time in seconds")
    timestamp = int(raw_timestamp)
    now = int(time.time()) if now is None else int(now)
    if timestamp < now - tolerance_seconds:
        raise SignatureInvalid("timestamp too old")
    if timestamp > now + tolerance_seconds:
        raise SignatureInvalid("timestamp too new")
    expected = signature_compute(secret=secret, message_id=message_id, timestamp=timestamp, body=body).encode()
    matched = False
    for candidate in lowered[HEADER_SIGNATURE].split():
        # Every candidate is compared, in constant time each, so the time taken does not say which matched.
        matched |= hmac.compare_digest(candidate.encode(), expected)
    if not matched:
        raise SignatureInvalid("no matching signature")
