"""The base of every output serializer."""

import copy

from rest_framework import serializers


class OutputSerializer(serializers.Serializer):
    """A serializer that only shapes output, made cheap to instantiate: DRF deep-copies every
    declared field for each instance (by re-running each field's constructor), which costs more
    than the rest of a point read. Output fields keep no per-request state, so a shallow copy,
    bound to this instance as usual, is enough."""

    def get_fields(self):
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}
