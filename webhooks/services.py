"""Writes of webhooks: endpoints and their secrets, the fan-out of events into deliveries, each
delivery's state machine (pending → succeeded | retrying → dead), dead letters and replays.

The store is the truth; Redis only carries the ids of deliveries whose attempt is due (a list
the worker pops). A worker claims a delivery before it sends (a write conditional on the
version it read, with a lease), so two workers, or two sweepers pushing one id twice, never
send one attempt twice; a worker killed mid-attempt leaves a lease that expires, and the
sweeper pushes the delivery again.

A delivery is due only while its endpoint can take it. Pausing or disabling an endpoint parks
its open deliveries (no next attempt until it is enabled, when they are due at once); deleting
it closes them. Whatever escaped that (an attempt in flight then) is parked or closed when the
worker or the sweeper meets it, so no endpoint's deliveries can crowd out another's."""

import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings

from evaapi.auth.domain import Tenant
from evaapi.auth.services.audit import audit_record
from evaapi.events.catalogue import UnknownEventType, event_type_matches, event_type_pattern_check
from evaapi.events.domain import Event, event_make
from evaapi.events.outbox import outbox_add, outbox_relay_now
from evaapi.exceptions import InvalidInput, ResourceConflict, ResourceNotFound
from evaapi.redis import redis_client
from evaapi.store import NotFound, PreconditionFailed
from evaapi.times import iso, parse_iso, utc_now
from spaces.selectors import spaces_by_id
from webhooks import repositories
from webhooks.domain import OPEN_DELIVERY_STATUSES, AttemptLog, DeadLetter, Delivery, DeliveryStatus, WebhookEndpoint
from webhooks.repositories import WEBHOOKS
from webhooks.safety import UnsafeUrl, url_check
from webhooks.selectors import endpoint_item_get
from webhooks.sender import SendResult, redact_headers
from webhooks.signing import secret_decrypt, secret_encrypt, secret_generate, signature_headers

logger = logging.getLogger(__name__)

# The Redis list of "<webhook id> <delivery id>" whose attempt is due; the worker pops it.
DUE_QUEUE = "evaapi:webhooks:due"
_UPDATE_ATTEMPTS = 5
EDITABLE = ("url", "event_types", "description", "active", "space_ids")


# --- endpoints ---------------------------------------------------------------------------------
def _event_types_check(event_types) -> list[str]:
    checked = []
    for pattern in dict.fromkeys(event_types):
        try:
            checked.append(event_type_pattern_check(pattern))
        except UnknownEventType as exc:
            raise InvalidInput(str(exc), details={"event_types": [str(exc)]}) from None
    if not checked:
        raise InvalidInput("Name at least one event type ('*' for all).", details={"event_types": ["Empty."]})
    return checked


def _url_check(url: str) -> str:
    try:
        return url_check(url)
    except UnsafeUrl as exc:
        raise InvalidInput(str(exc), details={"url": [str(exc)]}) from None


def _space_ids_check(*, tenant: Tenant, space_ids) -> list[str] | None:
    """The spaces an endpoint is limited to, each one of the tenant's (another tenant's is as
    unknown as a missing one); None or empty: every space."""
    if not space_ids:
        return None
    ids = list(dict.fromkeys(map(str, space_ids)))
    known = spaces_by_id(tenant=tenant, space_ids=ids)
    unknown = [space_id for space_id in ids if space_id not in known]
    if unknown:
        raise InvalidInput(f"No such space: {', '.join(unknown)}.",
                           details={"space_ids": [f"No such space: {space_id}." for space_id in unknown]})
    return ids


def endpoint_create(*, tenant: Tenant, actor: str, url: str, event_types, description: str = "",
                    active: bool = True, space_ids=None) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its signing secret (shown once: stored encrypted)."""
    now = iso(utc_now())
    space_ids = _space_ids_check(tenant=tenant, space_ids=space_ids)
    endpoint = WebhookEndpoint(
        id=str(uuid.uuid4()), tenant_id=tenant.id, url=_url_check(url), description=description,
        event_types=tuple(_event_types_check(event_types)),
        space_ids=tuple(space_ids) if space_ids else None, active=active, created_by=actor,
        created_at=now, updated_at=now,
    )
    secret = secret_generate()
    item = repositories.endpoint_insert(repositories.endpoint_item(endpoint, secret_encrypted=secret_encrypt(secret)))
    audit_record(tenant_id=tenant.id, actor=actor, action="webhook.create", resource_type="webhook",
                 resource_id=endpoint.id)
    return repositories.endpoint_from_item(item), secret


def endpoint_update(*, tenant: Tenant, actor: str, webhook_id: str, changes: dict) -> WebhookEndpoint:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"Not editable: {', '.join(sorted(unknown))}.")
    if "url" in changes:
        changes["url"] = _url_check(changes["url"])
    if "event_types" in changes:
        changes["event_types"] = _event_types_check(changes["event_types"])
    if "space_ids" in changes and changes["space_ids"] is not None:
        changes["space_ids"] = _space_ids_check(tenant=tenant, space_ids=changes["space_ids"]) or []
    for _ in range(_UPDATE_ATTEMPTS):
        item = endpoint_item_get(tenant=tenant, webhook_id=webhook_id)
        updated = {**item, **changes, "updated_at": iso(utc_now())}
        if changes.get("active"):
            # Enabled by hand: what disabled it is over, and so is the failure streak.
            updated.update(disabled_reason=None, failing_since=None, consecutive_failures=0)
        try:
            item = repositories.endpoint_replace(updated, etag=item["_etag"])
        except PreconditionFailed:
            continue  # its stats changed meanwhile: apply the change to the current version
        audit_record(tenant_id=tenant.id, actor=actor, action="webhook.update", resource_type="webhook",
                     resource_id=webhook_id)
        if "active" in changes:
            # Also when it was so already: enabling again resumes what an interrupted enable left parked.
            deliveries_follow = _endpoint_deliveries_resume if item["active"] else _endpoint_deliveries_park
            deliveries_follow(tenant_id=tenant.id, webhook_id=webhook_id)
        return repositories.endpoint_from_item(item)
    raise ResourceConflict("The webhook kept changing while it was being updated; try again.")


def endpoint_delete(*, tenant: Tenant, actor: str, webhook_id: str) -> None:
    """Closes the endpoint's open deliveries, then deletes it: interrupted, the endpoint is still
    there to delete again. A delivery the fan-out made in between is closed when it is met."""
    endpoint_item_get(tenant=tenant, webhook_id=webhook_id)
    _endpoint_deliveries_close(webhook_id=webhook_id)
    repositories.endpoint_delete(tenant_id=tenant.id, webhook_id=webhook_id)
    audit_record(tenant_id=tenant.id, actor=actor, action="webhook.delete", resource_type="webhook",
                 resource_id=webhook_id)


def endpoint_rotate_secret(*, tenant: Tenant, actor: str, webhook_id: str,
                           grace_hours: float | None = None) -> tuple[WebhookEndpoint, str]:
    """A new secret signs from now on; the old one signs too (a second signature) for the grace
    period, so receivers can switch without losing a delivery.

    One previous secret is kept, so a rotation with a grace period while another's runs is a 409:
    it would end the running one at once, cutting off receivers still on the oldest secret that
    were promised its whole grace. A grace of 0 is always allowed and ends every previous secret
    now: what a leaked secret needs."""
    grace = timedelta(hours=settings.WEBHOOK_ROTATION_GRACE_HOURS if grace_hours is None else grace_hours)
    secret = secret_generate()
    for _ in range(_UPDATE_ATTEMPTS):
        item = endpoint_item_get(tenant=tenant, webhook_id=webhook_id)
        running_until = _grace_end(item, utc_now())
        if grace and running_until is not None:
            raise ResourceConflict(
                f"The previous rotation's grace period runs until {iso(running_until)}: rotate again after that, "
                "or now with grace_hours 0, which ends it (every earlier secret stops signing at once).",
                details={"previous_secret_expires_at": iso(running_until)})
        updated = {**item, "secret_encrypted": secret_encrypt(secret),
                   "previous_secret_encrypted": item["secret_encrypted"],
                   "previous_secret_expires_at": iso(utc_now() + grace), "updated_at": iso(utc_now())}
        try:
            item = repositories.endpoint_replace(updated, etag=item["_etag"])
        except PreconditionFailed:
            continue
        audit_record(tenant_id=tenant.id, actor=actor, action="webhook.rotate_secret", resource_type="webhook",
                     resource_id=webhook_id)
        return repositories.endpoint_from_item(item), secret
    raise ResourceConflict("The webhook kept changing while its secret was being rotated; try again.")


def endpoint_test(*, tenant: Tenant, actor: str, webhook_id: str) -> str:
    """Sends a `webhook.test` event to this endpoint through the real pipeline (the event rides
    in the endpoint's own write, is relayed, fanned out and delivered); returns the delivery id."""
    for _ in range(_UPDATE_ATTEMPTS):
        item = endpoint_item_get(tenant=tenant, webhook_id=webhook_id)
        if not item["active"]:
            # A disabled endpoint gets no deliveries: the test's would never exist.
            raise ResourceConflict("The webhook is disabled; enable it (active: true) to test it.",
                                   details={"active": False})
        event = event_make(type="webhook.test", tenant_id=tenant.id, data={"webhook_id": webhook_id})
        try:
            item = repositories.endpoint_replace(outbox_add({**item, "updated_at": iso(utc_now())}, event),
                                                 etag=item["_etag"])
        except PreconditionFailed:
            continue
        audit_record(tenant_id=tenant.id, actor=actor, action="webhook.test", resource_type="webhook",
                     resource_id=webhook_id)
        outbox_relay_now(WEBHOOKS, item)
        return delivery_id_for(event_id=event.id, webhook_id=webhook_id)
    raise ResourceConflict("The webhook kept changing; try again.")


# --- fan-out: events into deliveries -----------------------------------------------------------
def delivery_id_for(*, event_id: str, webhook_id: str) -> str:
    """One delivery per (event, endpoint): its id is derived from both, so fanning an event out
    twice (it is published at least once) makes no second delivery."""
    return "msg_" + uuid.uuid5(uuid.NAMESPACE_URL, f"{event_id}/{webhook_id}").hex


def _matches(endpoint: dict, event: Event) -> bool:
    if event.type == "webhook.test":
        return event.data.get("webhook_id") == endpoint["id"]  # to the endpoint tested only
    if endpoint.get("space_ids") and event.space_id not in endpoint["space_ids"]:
        return False
    return event_type_matches(endpoint["event_types"], event.type)


def webhooks_publish(event: Event) -> None:
    """A sink: one delivery for each active endpoint of the tenant that wants the event, its
    first attempt due now (pushed to the worker at once)."""
    now = iso(utc_now())
    body = json.dumps(event.as_dict(), separators=(",", ":"), ensure_ascii=False)
    for endpoint in repositories.endpoints_active(tenant_id=event.tenant_id):
        if not _matches(endpoint, event):
            continue
        delivery = Delivery(
            id=delivery_id_for(event_id=event.id, webhook_id=endpoint["id"]), tenant_id=event.tenant_id,
            webhook_id=endpoint["id"], event_id=event.id, event_type=event.type, space_id=event.space_id, body=body,
            status=DeliveryStatus.PENDING, attempt_count=0, next_attempt_at=now, created_at=now, updated_at=now,
        )
        if repositories.delivery_insert(repositories.delivery_item(delivery)):
            delivery_queue_push(webhook_id=endpoint["id"], delivery_id=delivery.id)


def delivery_queue_push(*, webhook_id: str, delivery_id: str) -> None:
    deliveries_queue_push(webhook_id=webhook_id, delivery_ids=[delivery_id])


def deliveries_queue_push(*, webhook_id: str, delivery_ids) -> None:
    """One Redis call for an endpoint's deliveries."""
    entries = [f"{webhook_id} {delivery_id}" for delivery_id in delivery_ids]
    if not entries:
        return
    try:
        redis_client().rpush(DUE_QUEUE, *entries)
    except redis.RedisError:
        logger.warning("could not queue %d deliveries of webhook %s; the sweeper will", len(entries), webhook_id)


# --- the worker's side: claim, then record ------------------------------------------------------
@dataclass(frozen=True)
class ClaimedAttempt:
    item: dict  # the delivery as claimed (its version: only this claim may record the outcome)
    attempt: int
    url: str
    headers: dict[str, str]
    body: bytes


def _grace_end(endpoint: dict, now: datetime) -> datetime | None:
    """When the previous secret stops signing, if it still signs."""
    expires = parse_iso(endpoint.get("previous_secret_expires_at"))
    return expires if endpoint.get("previous_secret_encrypted") and expires and now < expires else None


def _secrets(endpoint: dict, now: datetime) -> list[str]:
    secrets = [secret_decrypt(endpoint["secret_encrypted"])]
    if _grace_end(endpoint, now) is not None:
        secrets.append(secret_decrypt(endpoint["previous_secret_encrypted"]))
    return secrets


def _lease() -> timedelta:
    """Long enough for a claimed attempt to wait its turn at its endpoint (a worker claims up to
    WEBHOOK_CONCURRENCY at once, and sends WEBHOOK_CONCURRENCY_PER_ENDPOINT to one endpoint at a
    time) and then time out: a lease that ran out under a live worker would send the attempt twice."""
    rounds = -(-settings.WEBHOOK_CONCURRENCY // settings.WEBHOOK_CONCURRENCY_PER_ENDPOINT)
    return timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * rounds + 30)


def _leased(item: dict, now: datetime) -> bool:
    """Held by a worker for its attempt."""
    return bool(item.get("lease_until")) and parse_iso(item["lease_until"]) > now


def _due(item: dict, now: datetime) -> bool:
    if item["status"] not in OPEN_DELIVERY_STATUSES or parse_iso(item["next_attempt_at"]) > now:
        return False
    return not _leased(item, now)


def deliveries_claim(*, webhook_id: str, delivery_ids, now: datetime | None = None) -> list[ClaimedAttempt]:
    """Takes the due ones of an endpoint's deliveries for one attempt each: one query, one read
    of the endpoint and one batch of conditional writes (a lease each), however many ids. A
    delivery not due, final, held by another worker's lease or claimed by another worker meanwhile
    is left out; so are all when the endpoint is gone (they are closed) or inactive (they are
    parked: an endpoint enabled again gets them)."""
    now = now or utc_now()
    due = [item for item in repositories.deliveries_items_read(webhook_id=webhook_id, delivery_ids=delivery_ids)
           if _due(item, now)]
    if not due:
        return []
    endpoint = _endpoint_read(tenant_id=due[0]["tenant_id"], webhook_id=webhook_id)
    if endpoint is None or not endpoint.get("active"):
        _deliveries_hold(due, tenant_id=due[0]["tenant_id"], webhook_id=webhook_id, endpoint=endpoint, now=now)
        return []
    lease_until = iso(now + _lease())
    claims = [{**item, "attempt_count": item["attempt_count"] + 1, "lease_until": lease_until, "updated_at": iso(now)}
              for item in due]
    secrets = _secrets(endpoint, now)
    claimed = []
    for item in repositories.deliveries_replace(claims, webhook_id=webhook_id):
        if item is None:
            continue  # another worker claimed it first
        body = item["body"].encode()
        headers = signature_headers(message_id=item["id"], timestamp=int(now.timestamp()), body=body, secrets=secrets)
        claimed.append(ClaimedAttempt(item=item, attempt=item["attempt_count"], url=endpoint["url"], headers=headers,
                                      body=body))
    return claimed


def _schedule() -> list[float]:
    return [float(step) for step in settings.WEBHOOK_RETRY_SCHEDULE]


def _next_delay(attempt: int, result: SendResult) -> timedelta:
    """The wait before attempt `attempt + 1`: the schedule's, with ±10% jitter so an outage's
    retries do not all come back at once; a 429 or 503's Retry-After when it asks for longer
    (at most a day)."""
    delay = _schedule()[attempt] * random.uniform(0.9, 1.1)
    if result.status_code in (429, 503) and result.retry_after_seconds is not None:
        delay = max(delay, min(result.retry_after_seconds, settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS))
    return timedelta(seconds=delay)


def _error(result: SendResult) -> str | None:
    return None if result.succeeded else (result.error_message or f"HTTP {result.status_code}")


def _outcome(claimed: ClaimedAttempt, result: SendResult, now: datetime) -> dict:
    """The delivery after this attempt: succeeded; retrying at its next time; or dead after the
    last attempt or a 410."""
    changes = {"lease_until": None, "updated_at": iso(now), "last_status_code": result.status_code,
               "last_error": _error(result)}
    if result.succeeded:
        changes.update(status=str(DeliveryStatus.SUCCEEDED), succeeded_at=iso(now), next_attempt_at=iso(now))
    elif result.status_code == 410 or claimed.attempt >= len(_schedule()):
        changes.update(status=str(DeliveryStatus.DEAD), next_attempt_at=iso(now))
    else:
        changes.update(status=str(DeliveryStatus.RETRYING),
                       next_attempt_at=iso(now + _next_delay(claimed.attempt, result)))
    return {**claimed.item, **changes}


def attempts_record(attempts: list[tuple[ClaimedAttempt, SendResult]], *,
                    now: datetime | None = None) -> list[Delivery]:
    """Logs each attempt and moves its delivery on (`_outcome`); a dead one gets a dead letter,
    and a 410 disables its endpoint. Writes go by endpoint, in batches: the logs, the deliveries
    (each conditional on its claim: a claim that ran out and was taken by another worker only
    logs), the dead letters, then one update of the endpoint's stats. Returns the deliveries in
    the order of `attempts`."""
    now = now or utc_now()
    recorded: dict[str, Delivery] = {}
    by_endpoint: dict[str, list[tuple[ClaimedAttempt, SendResult]]] = {}
    for claimed, result in attempts:
        by_endpoint.setdefault(claimed.item["webhook_id"], []).append((claimed, result))
    for webhook_id, group in by_endpoint.items():
        recorded.update(_endpoint_attempts_record(webhook_id, group, now))
    return [recorded[claimed.item["id"]] for claimed, _ in attempts]


def _endpoint_attempts_record(webhook_id: str, attempts: list[tuple[ClaimedAttempt, SendResult]],
                              now: datetime) -> dict[str, Delivery]:
    tenant_id = attempts[0][0].item["tenant_id"]
    repositories.logs_insert([AttemptLog(
        id=str(uuid.uuid4()), tenant_id=tenant_id, webhook_id=webhook_id, delivery_id=claimed.item["id"],
        event_type=claimed.item["event_type"], attempt=claimed.attempt, attempted_at=iso(now), url=claimed.url,
        outcome="succeeded" if result.succeeded else "failed", status_code=result.status_code,
        latency_ms=round(result.latency_ms, 2), request_headers=redact_headers(claimed.headers),
        response_body=result.response_body, error_class=result.error_class, error_message=result.error_message,
    ) for claimed, result in attempts], webhook_id=webhook_id)
    written = repositories.deliveries_replace([_outcome(claimed, result, now) for claimed, result in attempts],
                                              webhook_id=webhook_id)
    recorded, counted, letters = {}, [], []
    for (claimed, result), item in zip(attempts, written, strict=True):
        if item is None:
            # Not ours any more (the lease ran out and another worker took it): its outcome stands.
            logger.warning("delivery %s changed during its attempt; this attempt's outcome is only logged",
                           claimed.item["id"])
            recorded[claimed.item["id"]] = repositories.delivery_from_item(claimed.item)
            continue
        recorded[item["id"]] = repositories.delivery_from_item(item)
        counted.append(result)
        if item["status"] == DeliveryStatus.DEAD:
            letters.append(DeadLetter(
                id=item["id"], tenant_id=tenant_id, webhook_id=webhook_id, delivery_id=item["id"],
                event_id=item["event_id"], event_type=item["event_type"], failed_at=iso(now),
                attempt_count=item["attempt_count"], last_status_code=result.status_code, last_error=_error(result),
            ))
    if letters:
        repositories.dead_letters_upsert(letters, tenant_id=tenant_id)
    if counted:
        _endpoint_stats_record(tenant_id=tenant_id, webhook_id=webhook_id, results=counted, now=now)
    return recorded


def _endpoint_stats_record(*, tenant_id: str, webhook_id: str, results: list[SendResult], now: datetime) -> None:
    """Counts the results (in the order they came) in one update of the endpoint's stats, then
    disables it after a 410 or days of nothing but failures."""
    try:
        endpoint = repositories.endpoint_item_read(tenant_id=tenant_id, webhook_id=webhook_id)
    except NotFound:
        return
    successes = sum(result.succeeded for result in results)
    last_success = max((n for n, result in enumerate(results) if result.succeeded), default=-1)
    trailing_failures = len(results) - 1 - last_success
    if not trailing_failures:
        failing_since = None
    elif successes:
        failing_since = iso(now)  # failing again since the batch's last success
    else:
        failing_since = endpoint.get("failing_since") or iso(now)
    endpoint = repositories.endpoint_stats_record(
        tenant_id=tenant_id, webhook_id=webhook_id, successes=successes, failures=len(results) - successes,
        trailing_failures=trailing_failures, at=iso(now), failing_since=failing_since)
    if endpoint is None:
        return
    if any(result.status_code == 410 for result in results):
        endpoint_disable(tenant_id=tenant_id, webhook_id=webhook_id, reason="The endpoint answered 410 Gone.")
        return
    days = settings.WEBHOOK_DISABLE_AFTER_FAILING_DAYS
    if failing_since and now - parse_iso(failing_since) >= timedelta(days=days):
        endpoint_disable(tenant_id=tenant_id, webhook_id=webhook_id, reason=f"Every delivery failed for {days} days.")


def endpoint_disable(*, tenant_id: str, webhook_id: str, reason: str) -> None:
    """Disables an endpoint the system gave up on, with a `webhook.disabled` event and a log line;
    its open deliveries are parked until it is enabled."""
    for _ in range(_UPDATE_ATTEMPTS):
        try:
            item = repositories.endpoint_item_read(tenant_id=tenant_id, webhook_id=webhook_id)
        except NotFound:
            return
        if not item["active"]:
            return
        event = event_make(type="webhook.disabled", tenant_id=tenant_id,
                           data={"webhook_id": webhook_id, "url": item["url"], "reason": reason})
        disabled = {**item, "active": False, "disabled_reason": reason, "updated_at": iso(utc_now())}
        try:
            item = repositories.endpoint_replace(outbox_add(disabled, event), etag=item["_etag"])
        except PreconditionFailed:
            continue
        logger.warning("webhook %s of tenant %s disabled: %s", webhook_id, tenant_id, reason)
        outbox_relay_now(WEBHOOKS, item)
        _endpoint_deliveries_park(tenant_id=tenant_id, webhook_id=webhook_id)
        return


# --- an endpoint's open deliveries follow its state --------------------------------------------
# Parked: a delivery keeps its status (pending or retrying) and its attempt count, and its next
# attempt is "none" (repositories.NEXT_ATTEMPT_PARKED) until its endpoint is enabled; then it is
# due at once. Closed: dead, with the reason as its last error and no dead letter (with its
# endpoint gone, there is nothing to replay it to).
ENDPOINT_DELETED = "Its endpoint was deleted."
_SETTLE_PAGE = 100


def _endpoint_read(*, tenant_id: str, webhook_id: str) -> dict | None:
    try:
        return repositories.endpoint_item_read(tenant_id=tenant_id, webhook_id=webhook_id)
    except NotFound:
        return None


def _deliveries_park(items: list[dict], *, webhook_id: str, now: datetime) -> list[dict]:
    """Those written (a delivery that changed meanwhile is left as it is). One in flight is left
    too: its outcome is recorded, and if it is due again it is parked when met."""
    parked = [{**item, "next_attempt_at": repositories.NEXT_ATTEMPT_PARKED, "updated_at": iso(now)}
              for item in items if not _leased(item, now)]
    return [item for item in repositories.deliveries_replace(parked, webhook_id=webhook_id) if item is not None]


def _deliveries_resume(items: list[dict], *, webhook_id: str, now: datetime) -> None:
    resumed = repositories.deliveries_replace(
        [{**item, "next_attempt_at": iso(now), "updated_at": iso(now)} for item in items], webhook_id=webhook_id)
    deliveries_queue_push(webhook_id=webhook_id, delivery_ids=[item["id"] for item in resumed if item is not None])


def _deliveries_close(items: list[dict], *, webhook_id: str, now: datetime) -> None:
    repositories.deliveries_replace(
        [{**item, "status": str(DeliveryStatus.DEAD), "next_attempt_at": iso(now), "lease_until": None,
          "last_error": ENDPOINT_DELETED, "updated_at": iso(now)} for item in items], webhook_id=webhook_id)


def _parked_recheck(parked: list[dict], *, tenant_id: str, webhook_id: str, now: datetime) -> bool:
    """Whether the endpoint is still paused after these were parked. Whoever enabled or deleted it
    meanwhile may have looked for its parked deliveries before these were written, so if it is
    active now they are resumed, and closed if it is gone: none waits for an endpoint that is not
    paused."""
    if not parked:
        return True
    endpoint = _endpoint_read(tenant_id=tenant_id, webhook_id=webhook_id)
    if endpoint is None:
        _deliveries_close(parked, webhook_id=webhook_id, now=now)
    elif endpoint.get("active"):
        _deliveries_resume(parked, webhook_id=webhook_id, now=now)
    else:
        return True
    return False


def _deliveries_hold(items: list[dict], *, tenant_id: str, webhook_id: str, endpoint: dict | None,
                     now: datetime) -> None:
    """Due deliveries of an endpoint that cannot take them (`endpoint` as just read; None: it is
    gone), which its pause, disable or delete missed (they were in flight then, a fan-out raced
    it, or they are older than that rule): closed if it is gone, parked otherwise."""
    if endpoint is None:
        _deliveries_close(items, webhook_id=webhook_id, now=now)
    else:
        _parked_recheck(_deliveries_park(items, webhook_id=webhook_id, now=now), tenant_id=tenant_id,
                        webhook_id=webhook_id, now=now)


def _endpoint_deliveries_pages(*, webhook_id: str, parked: bool | None):
    """An endpoint's open deliveries (those parked, not parked, or all), a page at a time."""
    for status in OPEN_DELIVERY_STATUSES:
        continuation = None
        while True:
            items, continuation = repositories.deliveries_open_page(
                webhook_id=webhook_id, status=status, parked=parked, limit=_SETTLE_PAGE, continuation=continuation)
            if items:
                yield items
            if continuation is None:
                break


def _endpoint_deliveries_park(*, tenant_id: str, webhook_id: str) -> None:
    """After an endpoint was paused or disabled: its open deliveries are no longer due."""
    now = utc_now()
    for items in _endpoint_deliveries_pages(webhook_id=webhook_id, parked=False):
        parked = _deliveries_park(items, webhook_id=webhook_id, now=now)
        if not _parked_recheck(parked, tenant_id=tenant_id, webhook_id=webhook_id, now=now):
            return  # enabled or deleted meanwhile: its enable or delete handles the rest


def _endpoint_deliveries_resume(*, tenant_id: str, webhook_id: str) -> None:
    """After an endpoint was enabled: its parked deliveries are due now. (One paused again
    meanwhile finds some due: they are parked when met.)"""
    now = utc_now()
    for items in _endpoint_deliveries_pages(webhook_id=webhook_id, parked=True):
        _deliveries_resume(items, webhook_id=webhook_id, now=now)


def _endpoint_deliveries_close(*, webhook_id: str) -> None:
    """Before an endpoint is deleted: its open deliveries end (an attempt in flight is only logged)."""
    now = utc_now()
    for items in _endpoint_deliveries_pages(webhook_id=webhook_id, parked=None):
        _deliveries_close(items, webhook_id=webhook_id, now=now)


# --- retries, replays, recovery ----------------------------------------------------------------
def _delivery_reopen(item: dict, *, endpoint: dict) -> dict | None:
    """A final or waiting delivery due again now (parked, if its endpoint is paused or disabled),
    its attempts counted afresh (the webhook-id stays: receivers see the same message); queued
    for the worker if due."""
    now = utc_now()
    active = bool(endpoint.get("active"))
    try:
        reopened = repositories.delivery_replace(
            {**item, "status": str(DeliveryStatus.PENDING), "attempt_count": 0,
             "next_attempt_at": iso(now) if active else repositories.NEXT_ATTEMPT_PARKED,
             "lease_until": None, "updated_at": iso(now)}, etag=item["_etag"])
    except (PreconditionFailed, NotFound):
        return None
    if active:
        delivery_queue_push(webhook_id=item["webhook_id"], delivery_id=item["id"])
    elif not _parked_recheck([reopened], tenant_id=endpoint["tenant_id"], webhook_id=endpoint["id"], now=now):
        return repositories.delivery_item_read(webhook_id=item["webhook_id"], delivery_id=item["id"])
    return reopened


def delivery_retry(*, tenant: Tenant, actor: str, webhook_id: str, delivery_id: str) -> Delivery:
    """Sends a delivery again now (failed, dead or waiting for its next attempt); a succeeded
    one is a 409. While the endpoint is paused or disabled it is parked instead."""
    endpoint = endpoint_item_get(tenant=tenant, webhook_id=webhook_id)
    for _ in range(_UPDATE_ATTEMPTS):
        try:
            item = repositories.delivery_item_read(webhook_id=webhook_id, delivery_id=delivery_id)
        except NotFound:
            raise ResourceNotFound("No such delivery.") from None
        if item["tenant_id"] != tenant.id:
            raise ResourceNotFound("No such delivery.")
        if item["status"] == DeliveryStatus.SUCCEEDED:
            raise ResourceConflict("The delivery succeeded already.", details={"status": item["status"]})
        reopened = _delivery_reopen(item, endpoint=endpoint)
        if reopened is not None:
            audit_record(tenant_id=tenant.id, actor=actor, action="webhook.delivery_retry",
                         resource_type="webhook_delivery", resource_id=delivery_id)
            return repositories.delivery_from_item(reopened)
    raise ResourceConflict("The delivery kept changing; try again.")


def deliveries_recover(*, tenant: Tenant, actor: str, webhook_id: str, since: datetime,
                       until: datetime | None = None) -> int:
    """Sends again every dead delivery of the endpoint made in [since, until) (parks them, while
    it is paused or disabled); returns how many."""
    endpoint = endpoint_item_get(tenant=tenant, webhook_id=webhook_id)
    until = until or utc_now()
    if until <= since:
        raise InvalidInput("until must be after since.", details={"until": ["Not after since."]})
    reopened, continuation = 0, None
    while True:
        items, continuation = repositories.deliveries_dead_between(
            webhook_id=webhook_id, since=iso(since), until=iso(until), limit=100, continuation=continuation)
        for item in items:
            if _delivery_reopen(item, endpoint=endpoint) is not None:
                reopened += 1
        if continuation is None:
            break
    audit_record(tenant_id=tenant.id, actor=actor, action="webhook.recover", resource_type="webhook",
                 resource_id=webhook_id)
    return reopened


def dead_letter_replay(*, tenant: Tenant, actor: str, letter_id: str) -> Delivery:
    """Sends a dead letter's delivery again (parks it, while its endpoint is paused or disabled),
    and marks the letter replayed. A letter whose endpoint was deleted is a 404: there is nowhere
    to send it."""
    try:
        letter = repositories.dead_letter_item_read(tenant_id=tenant.id, letter_id=letter_id)
    except NotFound:
        raise ResourceNotFound("No such dead letter.") from None
    endpoint = _endpoint_read(tenant_id=tenant.id, webhook_id=letter["webhook_id"])
    if endpoint is None:
        raise ResourceNotFound("The dead letter's endpoint was deleted: it cannot be replayed.")
    try:
        item = repositories.delivery_item_read(webhook_id=letter["webhook_id"], delivery_id=letter["delivery_id"])
    except NotFound:
        raise ResourceNotFound("The dead letter's delivery is gone.") from None
    if item["status"] != DeliveryStatus.DEAD:
        raise ResourceConflict(f"The delivery is {item['status']} already.", details={"status": item["status"]})
    reopened = _delivery_reopen(item, endpoint=endpoint)
    if reopened is None:
        raise ResourceConflict("The delivery changed meanwhile; try again.")
    repositories.dead_letter_replace({**letter, "replayed_at": iso(utc_now())}, etag=letter["_etag"])
    audit_record(tenant_id=tenant.id, actor=actor, action="webhook.dead_letter_replay",
                 resource_type="webhook_dead_letter", resource_id=letter_id)
    return repositories.delivery_from_item(reopened)


# --- the sweeper's part ------------------------------------------------------------------------
def deliveries_due_push(*, limit: int = 500, now: datetime | None = None) -> int:
    """Pushes the due deliveries (first attempts whose push Redis lost, retries whose time has
    come, attempts a killed worker left) to the worker, the longest due first: up to `limit` of
    each status a round, so a queue no worker empties grows by no more. Pushing one twice is
    harmless: only one claim succeeds.

    It pages past what it cannot push, so no amount of that keeps another endpoint's deliveries
    waiting: those a worker holds (a lease), and those of an endpoint that is paused, disabled
    or gone, which it parks or closes on the way (`_deliveries_hold`), never to meet them again.
    Returns how many it pushed."""
    now = now or utc_now()
    pushed = 0
    for status in OPEN_DELIVERY_STATUSES:
        pushed_of_status, continuation = 0, None
        while pushed_of_status < limit:
            items, continuation = repositories.deliveries_due(status=status, now=iso(now), limit=limit,
                                                              continuation=continuation)
            by_endpoint: dict[str, list[dict]] = {}
            for item in items:
                if not _leased(item, now):
                    by_endpoint.setdefault(item["webhook_id"], []).append(item)
            endpoints = {endpoint["id"]: endpoint
                         for endpoint in repositories.endpoint_items_by_ids(webhook_ids=list(by_endpoint))}
            for webhook_id, group in by_endpoint.items():
                endpoint = endpoints.get(webhook_id)
                if endpoint is None or not endpoint.get("active"):
                    _deliveries_hold(group, tenant_id=group[0]["tenant_id"], webhook_id=webhook_id, endpoint=endpoint,
                                     now=now)
                    continue
                group = group[:limit - pushed_of_status]
                deliveries_queue_push(webhook_id=webhook_id, delivery_ids=[item["id"] for item in group])
                pushed_of_status += len(group)
            if continuation is None:
                break
        pushed += pushed_of_status
    return pushed
