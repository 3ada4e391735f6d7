"""Counts store calls (and Cosmos request units) per request or job.

The request middleware and the job wrapper open a scope; every public container method
records one call in it. Tests use `count_store_calls()` to assert exact numbers."""

import contextvars
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class StoreCalls:
    calls: int = 0
    request_charge: float = 0.0
    by_operation: Counter = field(default_factory=Counter)
    # "<operation> <container>" of each call, in order: what a test's failure message lists.
    log: list[str] = field(default_factory=list, repr=False)
    parent: "StoreCalls | None" = field(default=None, repr=False)

    def record(self, operation: str, container: str | None = None, charge: float = 0.0) -> None:
        scope = self
        while scope is not None:
            scope.calls += 1
            scope.request_charge += charge
            scope.by_operation[operation] += 1
            scope.log.append(f"{operation} {container}" if container else operation)
            scope = scope.parent

    def charge(self, charge: float) -> None:
        scope = self
        while scope is not None:
            scope.request_charge += charge
            scope = scope.parent


_current: contextvars.ContextVar[StoreCalls | None] = contextvars.ContextVar("store_calls", default=None)


def store_calls_record(operation: str, container: str | None = None, charge: float = 0.0) -> None:
    calls = _current.get()
    if calls is not None:
        calls.record(operation, container, charge)


def store_calls_charge(charge: float) -> None:
    """Adds request units to the call already recorded (the charge is known only afterwards)."""
    calls = _current.get()
    if calls is not None:
        calls.charge(charge)


def store_calls_open() -> tuple[StoreCalls, contextvars.Token]:
    """Opens a counting scope (for code that cannot use a `with` block, like middleware);
    close it with `store_calls_close(token)`. A call counts in every open scope, so a test's
    counter around a request sees the calls the request's own counter logs."""
    calls = StoreCalls(parent=_current.get())
    return calls, _current.set(calls)


def store_calls_close(token: contextvars.Token) -> None:
    _current.reset(token)


@contextmanager
def count_store_calls():
    """A fresh counter for the block (see store_calls_open)."""
    calls, token = store_calls_open()
    try:
        yield calls
    finally:
        store_calls_close(token)
