"""Input fields stricter than DRF's own, so the API takes exactly what its schema says."""

import uuid

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string, and only a string: DRF's CharField turns a JSON number into text, which the
    OpenAPI schema (type: string) does not allow."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    """A UUID written as a string (or one GraphQL's UUID scalar parsed): DRF's UUIDField reads a
    JSON integer as one (1 became 00000000-0000-0000-0000-000000000001)."""

    def to_internal_value(self, data):
        if not isinstance(data, str | uuid.UUID):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A JSON number: DRF's FloatField reads true as 1.0 and "0.5" as 0.5."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)
