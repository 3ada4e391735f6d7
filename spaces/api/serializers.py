from rest_framework import serializers

from evaapi.api.fields import StrictCharField
from evaapi.api.pagination import PageInput
from evaapi.api.serializers import OutputSerializer
from spaces.domain import DESCRIPTION_MAX, NAME_MAX, TAG_MAX, TAGS_MAX
from spaces.repositories import SORTS


class SpaceCreateInput(serializers.Serializer):
    name = StrictCharField(min_length=1, max_length=NAME_MAX)
    description = StrictCharField(max_length=DESCRIPTION_MAX, allow_blank=True, required=False, default="")
    tags = serializers.ListField(child=StrictCharField(min_length=1, max_length=TAG_MAX), max_length=TAGS_MAX,
                                 required=False, default=list)
    metadata = serializers.DictField(required=False, default=dict, help_text="A JSON object of at most 16 KB.")


class SpaceUpdateInput(serializers.Serializer):
    name = StrictCharField(min_length=1, max_length=NAME_MAX, required=False)
    description = StrictCharField(max_length=DESCRIPTION_MAX, allow_blank=True, required=False)
    tags = serializers.ListField(child=StrictCharField(min_length=1, max_length=TAG_MAX), max_length=TAGS_MAX,
                                 required=False)
    metadata = serializers.DictField(required=False, help_text="A JSON object of at most 16 KB.")

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Name at least one of: name, description, tags, metadata.")
        return attrs


class SpaceListInput(PageInput):
    tag = StrictCharField(required=False, max_length=TAG_MAX)
    sort = serializers.ChoiceField(choices=sorted(SORTS), required=False, default="created_at",
                                   help_text="created_at (newest first), -created_at, name, -name.")


class SpaceOutput(OutputSerializer):
    id = serializers.CharField()
    tenant_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    metadata = serializers.DictField()
    document_count = serializers.IntegerField()
    created_by = serializers.CharField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
