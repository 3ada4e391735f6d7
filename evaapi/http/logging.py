import logging
import time

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from evaapi.http.context import current_request_id


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request id (or None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line; times in UTC with a Z, like every time the API shows."""

    converter = time.gmtime

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("datefmt", "%Y-%m-%dT%H:%M:%SZ")
        super().__init__(*args, **kwargs)
