"""The event envelope: {id, type, tenant_id, space_id?, timestamp, data}."""

import uuid
from dataclasses import asdict, dataclass, field

from evaapi.events.catalogue import event_data_check
from evaapi.times import iso, utc_now


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    tenant_id: str
    timestamp: str
    data: dict = field(default_factory=dict)
    space_id: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict) -> "Event":
        return cls(**{name: value.get(name) for name in cls.__dataclass_fields__})


def event_make(*, type: str, tenant_id: str, data: dict, space_id: str | None = None) -> Event:
    """A new event, its data checked against the catalogue before anything is written."""
    event_data_check(type, data)
    return Event(id=str(uuid.uuid4()), type=type, tenant_id=tenant_id, timestamp=iso(utc_now()), data=data,
                 space_id=space_id)
