"""The event guarantee: no committed change without its event, no event without its change,
even when the process dies between any two steps; the sweeper finishes what a crash left."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from evaapi.events import selectors
from evaapi.events.faults import POINTS, SimulatedCrash, crash_at
from evaapi.events.outbox import outbox_sweep
from evaapi.events.sinks import Sink, sink_register, sink_unregister
from evaapi.exceptions import ResourceConflict
from spaces import repositories as space_repositories
from spaces.services import space_create, space_update
from tests.factories import tenant_make

pytestmark = pytest.mark.django_db
PROJECT_DIR = Path(__file__).resolve().parents[2]


def _recorded(tenant, space_id):
    events, _ = selectors.event_list(tenant=tenant, space_id=space_id, limit=100, continuation=None)
    return events


@pytest.mark.parametrize("point", POINTS)
def test_a_crash_between_any_two_steps_loses_nothing_and_invents_nothing(deployment, recorded_events, point):
    tenant = tenant_make()
    name = f"Crashing {uuid.uuid4().hex[:6]}"
    with crash_at(point), pytest.raises(SimulatedCrash):
        space_create(tenant=tenant, actor="test", name=name)
    # The change is committed (the crash came after the write) ...
    (space,) = space_repositories.space_page(tenant_id=tenant.id, tag=None, sort="name", limit=10,
                                              continuation=None)[0]
    assert space.name == name
    # ... and the sweeper finishes the relay its crash cut short.
    outbox_sweep(grace_seconds=0)
    (event,) = _recorded(tenant, space.id)
    assert (event.type, event.data) == ("space.created", {"space_id": space.id, "name": name})
    assert event.id in {e.id for e in recorded_events}  # published (at least once: maybe twice)
    item = space_repositories.space_item_read(tenant_id=tenant.id, space_id=space.id)
    assert item["outbox"] == []
    assert item["outbox_pending"] is False
    # Sweeping again changes nothing: recording is by id.
    outbox_sweep(grace_seconds=0)
    assert [e.id for e in _recorded(tenant, space.id)] == [event.id]


def test_a_write_that_fails_records_no_event(deployment, recorded_events):
    tenant = tenant_make()
    space_create(tenant=tenant, actor="test", name="Taken")
    with pytest.raises(ResourceConflict):
        space_create(tenant=tenant, actor="test", name="TAKEN")
    outbox_sweep(grace_seconds=0)
    events, _ = selectors.event_list(tenant=tenant, limit=100, continuation=None)
    assert [e.type for e in events] == ["space.created"]
    assert [e.type for e in recorded_events if e.tenant_id == tenant.id] == ["space.created"]


def test_a_failing_sink_does_not_fail_the_write_and_the_sweeper_publishes_later(deployment, recorded_events):
    tenant = tenant_make()
    outage = {"down": True}
    received = []

    def flaky(event):
        if outage["down"]:
            raise ConnectionError("sink down")
        received.append(event)

    sink_register(Sink("test.flaky", flaky))
    try:
        space = space_create(tenant=tenant, actor="test", name="Outage")
        space_update(tenant=tenant, actor="test", space_id=space.id, changes={"description": "still works"})
        # Recorded before it is published: the first event is in `events`; the relay stopped at
        # the sink, so the second waits in the outbox with it.
        assert [e.type for e in _recorded(tenant, space.id)] == ["space.created"]
        outage["down"] = False
        outbox_sweep(grace_seconds=0)
    finally:
        sink_unregister("test.flaky")
    assert [e.type for e in reversed(_recorded(tenant, space.id))] == ["space.created", "space.updated"]
    assert [e.type for e in received if e.space_id == space.id] == ["space.created", "space.updated"]


def test_the_sweep_command_relays_what_a_crash_left(deployment):
    tenant = tenant_make()
    with crash_at("write.after_commit"), pytest.raises(SimulatedCrash):
        space = space_create(tenant=tenant, actor="test", name="Left behind")
    (space,) = space_repositories.space_page(tenant_id=tenant.id, tag=None, sort="name", limit=10,
                                              continuation=None)[0]
    assert _recorded(tenant, space.id) == []
    env = {**os.environ, **deployment, "SWEEP_GRACE_SECONDS": "0"}
    subprocess.run([sys.executable, "manage.py", "sweep", "--once"], cwd=PROJECT_DIR, env=env, check=True,
                   capture_output=True, timeout=120)
    assert [e.type for e in _recorded(tenant, space.id)] == ["space.created"]
