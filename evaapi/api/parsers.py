"""The API's JSON body parser: DRF's, with messages that say what is wrong with the body (never
Python's wording) and a nesting limit, so a deeply nested body is a 400, not a RecursionError."""

import json
import math

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

# Deeper than any body an endpoint takes; far below the interpreter's recursion limit.
MAX_DEPTH = 32


def depth_exceeds(data, limit: int) -> bool:
    """Whether `data` nests deeper than `limit`, without recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _constant_refused(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999
        raise ValueError(f"{text} is not a finite number")
    return value


def client_json_loads(text: str | bytes):
    """JSON a client sent (a body, a WebSocket message, a form field), as the API takes it: the
    numbers json reads beyond JSON's values (NaN, Infinity, and 1e999, which overflows to
    infinity) are refused with ValueError, like malformed JSON. Taken in, they reached the store,
    which refused the write with an error nobody had foreseen (a 500): SQLite's JSON functions
    call the row malformed."""
    return json.loads(text, parse_constant=_constant_refused, parse_float=_finite_float)


class JSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestDataTooBig(f"a JSON body takes at most {limit} bytes")
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(f"The request body is not valid {encoding} text.") from None
        try:
            data = client_json_loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column "
                             f"{exc.colno}).") from None
        except RecursionError:
            raise ParseError(f"The request body nests deeper than {MAX_DEPTH} levels.") from None
        except ValueError:
            # NaN/Infinity, or a number too long to convert: valid syntax, not a value we take.
            raise ParseError("The request body holds a number that is not a valid JSON value.") from None
        if depth_exceeds(data, MAX_DEPTH):
            raise ParseError(f"The request body nests deeper than {MAX_DEPTH} levels.")
        return data
