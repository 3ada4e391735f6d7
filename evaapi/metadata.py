"""Metadata: the JSON object a client attaches to a space or a document."""

import json

from evaapi.api.parsers import depth_exceeds
from evaapi.exceptions import InvalidInput

METADATA_MAX_BYTES = 16 * 1024
# Levels of objects and lists, the metadata object itself the first. Cosmos DB refuses an item
# nested deeper than about 128 levels (a 500 once it reached the store). REST bodies stop at 32
# levels (evaapi.api.parsers), so their metadata never comes near this; a GraphQL literal does
# not pass through that parser.
METADATA_MAX_DEPTH = 32


def metadata_check(metadata: dict) -> None:
    """At most METADATA_MAX_DEPTH levels deep, and at most 16 KB as the store holds it (compact
    JSON, UTF-8), whatever the client's spacing."""
    if depth_exceeds(metadata, METADATA_MAX_DEPTH):  # first: json.dumps recurses
        raise InvalidInput(f"metadata nests deeper than {METADATA_MAX_DEPTH} levels.",
                           details={"metadata": [f"Nests deeper than {METADATA_MAX_DEPTH} levels."]})
    if len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode()) > METADATA_MAX_BYTES:
        raise InvalidInput("metadata is larger than 16 KB.", details={"metadata": ["Larger than 16 KB."]})
