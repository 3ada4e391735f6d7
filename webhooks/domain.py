"""Webhooks: customers' endpoints, the deliveries of events to them, each attempt's log, and the
dead letters of deliveries that ran out of attempts."""

from dataclasses import dataclass, field
from enum import StrEnum


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # its first attempt is due
    RETRYING = "retrying"  # an attempt failed; the next is due at next_attempt_at
    SUCCEEDED = "succeeded"
    DEAD = "dead"  # out of attempts (or the endpoint answered 410): a dead letter holds it


OPEN_DELIVERY_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    tenant_id: str
    url: str
    description: str
    event_types: tuple[str, ...]  # exact types, families ("space.*") or "*"
    space_ids: tuple[str, ...] | None  # None: every space
    active: bool
    created_by: str
    created_at: str
    updated_at: str
    disabled_reason: str | None = None  # set when the system disabled it (410, failing for days)
    previous_secret_expires_at: str | None = None
    successes: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_success_at: str | None = None
    last_failure_at: str | None = None
    failing_since: str | None = None
    etag: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Delivery:
    id: str  # the webhook-id header: the same on every attempt, so receivers can drop repeats
    tenant_id: str
    webhook_id: str
    event_id: str
    event_type: str
    space_id: str | None
    body: str  # the exact JSON sent (and signed) on every attempt
    status: DeliveryStatus
    attempt_count: int
    # None while it is parked: open, but its endpoint is paused or disabled (due again once enabled).
    next_attempt_at: str | None
    created_at: str
    updated_at: str
    succeeded_at: str | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    lease_until: str | None = None  # a worker holds it for its attempt until then
    etag: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class AttemptLog:
    id: str
    tenant_id: str
    webhook_id: str
    delivery_id: str
    event_type: str
    attempt: int
    attempted_at: str
    url: str
    outcome: str  # succeeded | failed
    status_code: int | None
    latency_ms: float
    request_headers: dict
    response_body: str
    error_class: str | None
    error_message: str | None


@dataclass(frozen=True)
class DeadLetter:
    id: str
    tenant_id: str
    webhook_id: str
    delivery_id: str
    event_id: str
    event_type: str
    failed_at: str
    attempt_count: int
    last_status_code: int | None
    last_error: str | None
    replayed_at: str | None = None
    etag: str | None = field(default=None, compare=False)
