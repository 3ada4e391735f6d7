"""Local login tokens: short-lived HS256 JWTs this server issues to the Django users of a tenant.

A token names its user, tenant and scopes, and carries a stamp of the user's password hash, so
changing the password ends every token issued before (the principal check compares stamps)."""

import re
from dataclasses import dataclass
from datetime import timedelta

import jwt
from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from evaapi.auth.domain import TokenInvalid
from evaapi.auth.scopes import ALL_SCOPES
from evaapi.times import utc_now

ISSUER = "evaapi"
AUDIENCE = "evaapi-local"
_SUBJECT = re.compile(r"^user:([1-9][0-9]{0,18})$")
_MAX_TENANT_ID_LENGTH = 64


@dataclass(frozen=True)
class LocalTokenClaims:
    user_id: int
    tenant_id: str
    scopes: frozenset[str]
    password_stamp: str


def password_stamp(password_hash: str) -> str:
    """A keyed digest of the user's stored password hash: it changes whenever the password does,
    and reveals nothing about it."""
    return salted_hmac("evaapi.auth.local-token", password_hash, secret=settings.JWT_SECRET_KEY).hexdigest()[:32]


def password_stamp_matches(claims: LocalTokenClaims, password_hash: str) -> bool:
    return constant_time_compare(claims.password_stamp, password_stamp(password_hash))


def local_token_encode(*, user_id: int, tenant_id: str, scopes, password_hash: str, lifetime: int) -> str:
    now = utc_now()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": f"user:{user_id}",
        "tid": tenant_id,
        "scopes": sorted(set(scopes) & set(ALL_SCOPES)),
        "pwd": password_stamp(password_hash),
        "iat": now,
        "exp": now + timedelta(seconds=lifetime),
    }
    return jwt.encode(claims, settings.JWT_SECRET_KEY, algorithm="HS256")


def local_token_decode(token: str) -> LocalTokenClaims:
    """The claims of a valid token; TokenInvalid (with a client-safe reason) for anything else,
    including well-signed claims of the wrong types."""
    try:
        claims = jwt.decode(
            token,
            settings.JWT_SECRET_KEY,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "tid", "pwd"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenInvalid("token expired") from None
    except jwt.PyJWTError:
        raise TokenInvalid("invalid token") from None
    subject, tenant_id = claims["sub"], claims["tid"]
    scopes, stamp = claims.get("scopes", []), claims["pwd"]
    match = _SUBJECT.match(subject) if isinstance(subject, str) else None
    if (
        match is None
        or not isinstance(tenant_id, str)
        or not 0 < len(tenant_id) <= _MAX_TENANT_ID_LENGTH
        or not isinstance(scopes, list)
        or not all(isinstance(scope, str) for scope in scopes)
        or not isinstance(stamp, str)
    ):
        raise TokenInvalid("invalid token claims")
    return LocalTokenClaims(
        user_id=int(match.group(1)),
        tenant_id=tenant_id,
        scopes=frozenset(scopes) & frozenset(ALL_SCOPES),
        password_stamp=stamp,
    )
