"""The scopes an API key or token can carry; every endpoint requires one of them."""

SPACES_READ = "spaces:read"
SPACES_WRITE = "spaces:write"
DOCUMENTS_READ = "documents:read"
DOCUMENTS_WRITE = "documents:write"
QUERIES_EXECUTE = "queries:execute"
WEBHOOKS_MANAGE = "webhooks:manage"
AUDIT_READ = "audit:read"
ADMIN = "admin"

ALL_SCOPES = (
    SPACES_READ,
    SPACES_WRITE,
    DOCUMENTS_READ,
    DOCUMENTS_WRITE,
    QUERIES_EXECUTE,
    WEBHOOKS_MANAGE,
    AUDIT_READ,
    ADMIN,
)


def scopes_normalize(values) -> frozenset[str]:
    """Known scopes among `values`. Entra ID scope and role values may use '.' for ':'."""
    normalized = {value.replace(".", ":") for value in values if isinstance(value, str)}
    return frozenset(normalized & set(ALL_SCOPES))
