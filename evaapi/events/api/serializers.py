from rest_framework import serializers

from evaapi.api.fields import StrictCharField
from evaapi.api.pagination import PageInput
from evaapi.api.serializers import OutputSerializer


class EventListInput(PageInput):
    type = StrictCharField(required=False, max_length=100,
                                 help_text="An event type (`space.created`), a family (`space.*`) or `*`.")
    space_id = serializers.UUIDField(required=False)


class EventOutput(OutputSerializer):
    id = serializers.CharField()
    type = serializers.CharField()
    tenant_id = serializers.CharField()
    space_id = serializers.CharField(allow_null=True)
    timestamp = serializers.CharField()
    data = serializers.DictField()
