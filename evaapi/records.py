"""The domain's frozen dataclasses, built from the store's items."""

_new = object.__new__


def record_from_item(cls, item: dict, names: tuple[str, ...], **converted):
    """An instance of the frozen dataclass `cls` from a store item: each field in `names` as
    stored (None when the item lacks it), those in `converted` as given, `etag` from the item's.

    `names` and `converted` together name every field but `etag`. A frozen dataclass's __init__
    sets each field through object.__setattr__ (6 µs for a Document's 22 fields, 6 ms for the
    1,000 documents a GraphQL report reads: bench/graphql.py); what an item holds was made by
    that __init__ before it was stored, so the values go into the instance's __dict__ directly."""
    values = {name: item.get(name) for name in names}
    values.update(converted)
    values["etag"] = item.get("_etag")
    record = _new(cls)
    record.__dict__.update(values)
    return record
