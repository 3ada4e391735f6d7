"""The rq job class of every queue: each job runs with its id as the request id of its log
lines, and logs one line with its duration and store calls, like a request does."""

import logging
import time

from rq.job import Job

from evaapi.http.context import reset_request_id, set_request_id
from evaapi.store.metrics import count_store_calls

logger = logging.getLogger("evaapi.job")


class CountedJob(Job):
    def perform(self):
        token = set_request_id(self.id)
        started = time.perf_counter()
        outcome = "failed"
        try:
            with count_store_calls() as calls:
                result = super().perform()
            outcome = "finished"
            return result
        finally:
            logger.info(
                "job",
                extra={
                    "job_id": self.id,
                    "function": self.func_name,
                    "outcome": outcome,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "store_calls": calls.calls,
                    "store_request_charge": round(calls.request_charge, 2),
                },
            )
            reset_request_id(token)
