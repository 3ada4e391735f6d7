"""Named points in the event flow where a test can make the process "die": the SimulatedCrash
raised there passes every `except Exception`, as a kill would, so a test can stop the flow
between any two steps and then show that the sweeper completes it."""

from contextlib import contextmanager

_armed: set[str] = set()

POINTS = (
    "write.after_commit",  # the item and its event are written; nothing relayed yet
    "relay.after_record",  # recorded in `events`; no sink has it yet
    "relay.after_publish",  # recorded and published; still in the item's outbox
)


class SimulatedCrash(BaseException):
    pass


def crash_point(name: str) -> None:
    if name in _armed:
        raise SimulatedCrash(name)


@contextmanager
def crash_at(name: str):
    if name not in POINTS:
        raise ValueError(f"no crash point {name!r}")
    _armed.add(name)
    try:
        yield
    finally:
        _armed.discard(name)
