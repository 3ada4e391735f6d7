"""Python's garbage collector, tuned for a server process."""

import gc


def collector_tune() -> None:
    """What start-up made (Django, the schema, the URL maps) lives as long as the process, so it
    is frozen out of the collector's walks; and a first generation of 700 allocations (the
    default) ran a collection for every few deliveries of an event to 1,000 sockets, with full
    collections pausing a process for up to 400 ms (bench/README.md, subscriptions). At 50,000 a
    young generation is still collected every few milliseconds of busy work."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
