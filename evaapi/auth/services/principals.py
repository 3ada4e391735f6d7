"""Who a request's credentials prove: an API key, a local login token or an Entra ID token."""

import jwt

from evaapi.auth.domain import Principal, TokenInvalid
from evaapi.auth.selectors import membership_of_user
from evaapi.auth.services.api_keys import api_key_authenticate
from evaapi.auth.services.tenants import tenant_active_get
from evaapi.auth.tokens import ISSUER as LOCAL_TOKEN_ISSUER
from evaapi.auth.tokens import local_token_decode, password_stamp_matches
from evaapi.exceptions import NotAuthenticated


def principal_for(*, credentials: str) -> Principal:
    """The principal of presented credentials; raises NotAuthenticated or Forbidden."""
    if credentials.startswith("eva_"):
        return api_key_authenticate(raw_key=credentials)
    try:
        # Routing only: which verifier to use. Each verifier accepts only its own algorithm,
        # so a token claiming the local issuer cannot be checked with an Entra key or vice versa.
        issuer = jwt.decode(credentials, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        raise NotAuthenticated("Malformed credentials.") from None
    if issuer == LOCAL_TOKEN_ISSUER:
        return principal_from_local_token(token=credentials)
    return principal_from_entra(token=credentials)


def principal_from_entra(*, token: str) -> Principal:
    from evaapi.auth.entra import entra_token_verify

    try:
        identity = entra_token_verify(token)
    except TokenInvalid as exc:
        raise NotAuthenticated(f"Invalid token: {exc}") from None
    tenant = tenant_active_get(tenant_id=identity.tenant_id)
    return Principal(tenant=tenant, actor=f"entra:{identity.subject}", scopes=identity.scopes, method="entra")


def principal_from_local_token(*, token: str) -> Principal:
    """A local token holds only while its user does: active, still a member of the token's
    tenant, with the password the token was issued under. Its scopes are those it names that
    the membership still grants."""
    try:
        claims = local_token_decode(token)
    except TokenInvalid as exc:
        raise NotAuthenticated(f"Invalid token: {exc}") from None
    membership = membership_of_user(user_id=claims.user_id)
    if (
        membership is None
        or membership.tenant_id != claims.tenant_id
        or not membership.user.is_active
        or not password_stamp_matches(claims, membership.user.password)
    ):
        raise NotAuthenticated("Invalid token: revoked")
    tenant = tenant_active_get(tenant_id=claims.tenant_id)
    return Principal(
        tenant=tenant,
        actor=f"user:{claims.user_id}",
        scopes=claims.scopes & frozenset(membership.scopes),
        method="local",
    )
