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


class JSONRefused(ValueError):
    """JSON a client sent that parses but holds a value the API does not take; the message says
    which, for the client."""


_NUMBER_REFUSED = "a number that is not a valid JSON value (NaN, Infinity, or too large)"
# Integers are exact within ±(2**53 - 1) only, for Cosmos DB (numbers are IEEE-754 doubles) and
# for JavaScript readers alike: 10**30 + 7 would come back 1e+30.
INTEGER_MAX = 2**53 - 1
_INTEGER_REFUSED = f"an integer beyond ±{INTEGER_MAX:,}, which would not be kept exactly"


def _constant_refused(name: str):
    raise JSONRefused(_NUMBER_REFUSED)


def _exact_int(text: str) -> int:
    value = int(text)
    if abs(value) > INTEGER_MAX:
        raise JSONRefused(_INTEGER_REFUSED)
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999
        raise JSONRefused(_NUMBER_REFUSED)
    return value


def json_unicode_valid(value) -> bool:
    """Whether every string in `value` (parsed JSON: its keys too) is valid Unicode: a `\\ud800`
    escape decodes to a lone surrogate, which has no UTF-8 and cannot be stored."""
    stack = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode()
                except UnicodeEncodeError:
                    return False
        elif isinstance(value, dict):
            stack.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return True


def client_json_loads(text: str | bytes):
    """JSON a client sent (a body, a WebSocket message, a form field), as the API takes it.
    Malformed JSON raises json.JSONDecodeError (UnicodeDecodeError for bytes that are not UTF-8,
    RecursionError for deep nesting); JSON holding what json reads beyond JSON's values raises
    JSONRefused: NaN, Infinity, 1e999 (infinity), integers beyond INTEGER_MAX, strings with a lone
    surrogate. Taken in, they reached the store, which refused the write with an error
    nobody had foreseen (a 500)."""
    try:
        data = json.loads(text, parse_constant=_constant_refused, parse_float=_finite_float, parse_int=_exact_int)
    except (json.JSONDecodeError, UnicodeDecodeError, JSONRefused):
        raise
    except ValueError:  # int(): more digits than Python converts
        raise JSONRefused(_INTEGER_REFUSED) from None
    # A lone surrogate comes from an escape (\ud800), or, in text a codec decoded, from the codec
    # itself (a body declared charset=utf-7 spells one "+2AA-"): only then is the data walked.
    suspect = b"\\u" in text if isinstance(text, bytes) else "\\u" in text or not text.isascii()
    if suspect and not json_unicode_valid(data):
        raise JSONRefused("a string that is not valid Unicode (a lone surrogate, such as the escape \\ud800)")
    return data


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
        except LookupError:  # charset=rot13, base64, or no codec at all
            raise ParseError(f"The body's charset {encoding!r} is not a text encoding this API reads.") from None
        try:
            data = client_json_loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column "
                             f"{exc.colno}).") from None
        except RecursionError:
            raise ParseError(f"The request body nests deeper than {MAX_DEPTH} levels.") from None
        except JSONRefused as exc:
            raise ParseError(f"The request body holds {exc}.") from None
        if depth_exceeds(data, MAX_DEPTH):
            raise ParseError(f"The request body nests deeper than {MAX_DEPTH} levels.")
        return data
