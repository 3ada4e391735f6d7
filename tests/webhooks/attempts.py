"""One delivery's attempt through the worker's services (which take many at once)."""

from webhooks.services import ClaimedAttempt, attempts_record, deliveries_claim


def claim_one(*, webhook_id: str, delivery_id: str, now=None) -> ClaimedAttempt | None:
    claimed = deliveries_claim(webhook_id=webhook_id, delivery_ids=[delivery_id], now=now)
    return claimed[0] if claimed else None


def record_one(claimed: ClaimedAttempt, result, *, now=None):
    return attempts_record([(claimed, result)], now=now)[0]
