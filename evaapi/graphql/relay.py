"""Relay-style cursor connections over the store's keyset pages.

A cursor is opaque to clients; inside it names where a list resumes: the continuation token of
the page it was read from (none for the first page) and how many items of that page come
before. An edge's cursor resumes just after its item; `endCursor` after the last edge. Paging
is forward only (`first`, `after`), as the store's continuation tokens are."""

import base64
from collections import defaultdict

import graphene

from evaapi.concurrency import run_sync
from evaapi.exceptions import InvalidInput

DEFAULT_FIRST = 20
MAX_FIRST = 100


def first_argument() -> graphene.Int:
    return graphene.Int(default_value=DEFAULT_FIRST,
                        description=f"How many items (1 to {MAX_FIRST}; null is the default, {DEFAULT_FIRST}).")


def after_argument() -> graphene.String:
    return graphene.String(description="A cursor: the list resumes after the item it came from.")


def cursor_encode(token: str | None, skip: int) -> str:
    # "<skip>:<token>": built for every edge of every list, so kept cheap (no JSON).
    return base64.urlsafe_b64encode(f"{skip}:{token or ''}".encode()).decode()


def cursor_decode(cursor: str | None) -> tuple[str | None, int]:
    """(continuation token, items of that page to skip); InvalidInput if it is not a cursor."""
    if cursor is None:
        return None, 0
    try:
        skip, _, token = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        skip = int(skip)
    except (ValueError, UnicodeError):
        skip = -1
    if not 0 <= skip <= MAX_FIRST:
        raise InvalidInput("after is not a cursor of this list.", details={"after": ["Not a cursor."]})
    return token or None, skip


def first_check(first: int | None) -> int:
    # GraphQL passes an explicit null as null, not as the argument's default; null means "as
    # usual" to clients that send `first: $first` whether or not they set it.
    if first is None:
        return DEFAULT_FIRST
    if not 1 <= first <= MAX_FIRST:
        raise InvalidInput(f"first must be between 1 and {MAX_FIRST}.", details={"first": ["Out of range."]})
    return first


def page_read(read, *, first: int | None, after: str | None):
    """A page through `read(limit, continuation) -> (items, next token)` (a selector call):
    the items, the cursor context and whether more follow."""
    first = first_check(first)
    token, skip = cursor_decode(after)
    items, continuation = read(limit=skip + first, continuation=token)
    return items[skip:], token, skip, continuation


def connection_make(connection_type, items: list, *, token: str | None = None, skip: int = 0,
                    has_next: bool, continuation: str | None = None):
    """A connection of `items`, read from the page of `token` after `skip` of its items; when a
    next page's token is known, the end cursor starts there."""
    edges = [connection_type.Edge(node=item, cursor=cursor_encode(token, skip + n + 1)) for n, item in enumerate(items)]
    if edges and continuation is not None:
        edges[-1].cursor = cursor_encode(continuation, 0)
    return connection_type(
        edges=edges,
        page_info=graphene.relay.PageInfo(
            has_next_page=has_next, has_previous_page=token is not None or skip > 0,
            start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def page_connection(connection_type, read, *, first: int | None, after: str | None):
    """A connection read through a selector: `read(limit=..., continuation=...)`."""
    items, token, skip, continuation = page_read(read, first=first, after=after)
    return connection_make(connection_type, items, token=token, skip=skip, has_next=continuation is not None,
                           continuation=continuation)


async def parent_pages_load(keys: list[tuple], read, *, parent_id=lambda parent: parent) -> list:
    """A DataLoader batch of nested lists: keys are (parent, first, status); `read(parents=...,
    first=..., status=...)` (a selector, run on the sync pool) gives {parent id: (items, more)}
    for many parents in one store call. One call per distinct (first, status) in the batch."""
    groups = defaultdict(list)
    for parent, first, status in keys:
        groups[(first, status)].append(parent)
    pages = {}
    for (first, status), parents in groups.items():
        found = await run_sync(read, parents=parents, first=first, status=status)
        pages.update({(parent, first, status): found[parent_id(parent)] for parent in parents})
    return [pages[key] for key in keys]
