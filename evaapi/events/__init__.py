"""Events: what changed, recorded with the change itself and published to sinks.

How nothing is lost (docs/development.md, "Events"): a service writes the changed item and
its event in ONE store write (the event rides in the item's `outbox`), so there is never a
committed change without its event, nor an event without its change. A relay then publishes
the event to the sinks, records it in the `events` container and clears it from the outbox,
each step idempotent. The service runs the relay at once; the sweeper runs it for anything a
crash or an outage left in an outbox.
"""
