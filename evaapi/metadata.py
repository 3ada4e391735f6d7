"""Metadata: the JSON object a client attaches to a space or a document."""

import json

from evaapi.exceptions import InvalidInput

METADATA_MAX_BYTES = 16 * 1024


def metadata_check(metadata: dict) -> None:
    """At most 16 KB as the store holds it (compact JSON, UTF-8), whatever the client's spacing."""
    if len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode()) > METADATA_MAX_BYTES:
        raise InvalidInput("metadata is larger than 16 KB.", details={"metadata": ["Larger than 16 KB."]})
