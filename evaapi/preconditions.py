"""Conditional writes: a change applied only to the version the client read (If-Match)."""

from evaapi.exceptions import VersionMismatch


def if_match_check(item: dict, if_match: str | None, *, what: str) -> None:
    """`if_match`: the ETag the client read, `*` or None (any version). VersionMismatch (412)
    when the item is no longer that version."""
    if if_match is not None and if_match != "*" and if_match != item["_etag"]:
        raise VersionMismatch(f"The {what} has changed since that version (If-Match); read it again.")
