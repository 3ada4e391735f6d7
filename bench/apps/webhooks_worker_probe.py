"""`manage.py webhooks_worker` with the SQLite store's write transactions timed, for
`bench/webhooks.py --lock-probe`.

    python bench/apps/webhooks_worker_probe.py OUT.json      # from the project root, EVA's env set

The SQLite store opens every write with BEGIN IMMEDIATE (it takes the file's one write lock, or
waits in SQLite's busy handler for it) and ends it with COMMIT. This wraps
`SqliteStore.transaction` without changing it: the time to enter it (waiting for the lock) and
the time from entering to leaving it (holding the lock: the writes, the COMMIT, and any wait
for the GIL in between) are added up per process and written to OUT.json when the worker
stops (it stops on SIGTERM). The wrapper costs a few microseconds a transaction."""

import atexit
import json
import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def main() -> None:
    out = Path(sys.argv[1])
    sys.path.insert(0, str(PROJECT_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evaapi.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from evaapi.store.sqlite import SqliteStore

    stats = {"transactions": 0, "waited_s": 0.0, "held_s": 0.0, "waits_over_1ms": 0}
    guard = threading.Lock()
    original = SqliteStore.transaction

    @contextmanager
    def timed(self):
        started = time.perf_counter()
        acquired = None
        try:
            with original(self) as value:
                acquired = time.perf_counter()
                yield value
        finally:
            ended = time.perf_counter()
            if acquired is not None:
                with guard:
                    stats["transactions"] += 1
                    stats["waited_s"] += acquired - started
                    stats["held_s"] += ended - acquired
                    stats["waits_over_1ms"] += acquired - started > 0.001

    SqliteStore.transaction = timed
    atexit.register(lambda: out.write_text(json.dumps(stats)))
    call_command("webhooks_worker")


if __name__ == "__main__":
    main()
