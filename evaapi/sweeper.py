"""The sweeper: one loop that finishes what a crash, a killed worker or a flushed Redis left
undone. Apps register their sweeps (in AppConfig.ready); `manage.py sweep` runs them all every
SWEEP_INTERVAL_SECONDS (make run starts it; run one or more in production: every sweep is
idempotent, so two sweepers only do some work twice)."""

import logging
from collections.abc import Callable

from evaapi.http.context import reset_request_id, set_request_id
from evaapi.store.metrics import count_store_calls

logger = logging.getLogger("evaapi.sweep")

_SWEEPS: dict[str, Callable[[], int]] = {}


def sweep_register(name: str, sweep: Callable[[], int]) -> None:
    """`sweep()` does one round and returns how many things it fixed."""
    _SWEEPS[name] = sweep


def sweeps_run() -> dict[str, int]:
    """One round of every sweep; a failing sweep is logged and does not stop the others."""
    results = {}
    for name, sweep in _SWEEPS.items():
        token = set_request_id(f"sweep-{name}")
        try:
            with count_store_calls() as calls:
                results[name] = sweep()
            if results[name]:
                logger.info("sweep", extra={"sweep": name, "fixed": results[name], "store_calls": calls.calls})
        except Exception:
            logger.exception("sweep %s failed; next round retries", name)
            results[name] = 0
        finally:
            reset_request_id(token)
    return results
