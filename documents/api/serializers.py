from rest_framework import serializers

from documents.domain import LISTED_STATUSES
from evaapi.api.fields import StrictCharField
from evaapi.api.pagination import PageInput
from evaapi.api.parsers import JSONRefused, client_json_loads
from evaapi.api.serializers import OutputSerializer
from evaapi.metadata import METADATA_MAX_BYTES


class DocumentUploadInput(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    metadata = StrictCharField(required=False, max_length=METADATA_MAX_BYTES,
                               help_text="A JSON object (at most 16 KB), as text.")

    def validate(self, attrs):
        # A form may repeat a part; DRF reads the last one and drops the others silently.
        repeated = {name: ["Send one."] for name in ("file", "metadata")
                    if hasattr(self.initial_data, "getlist") and len(self.initial_data.getlist(name)) > 1}
        if repeated:
            raise serializers.ValidationError(repeated)
        return attrs

    def validate_metadata(self, value: str) -> dict:
        try:
            metadata = client_json_loads(value)
        except JSONRefused as exc:
            raise serializers.ValidationError(f"Holds {exc}.") from None
        except (ValueError, RecursionError):
            raise serializers.ValidationError("Not valid JSON.") from None
        if not isinstance(metadata, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return metadata


class DocumentListInput(PageInput):
    status = serializers.ChoiceField(choices=[str(s) for s in LISTED_STATUSES], required=False)


class DocumentOutput(OutputSerializer):
    id = serializers.CharField()
    tenant_id = serializers.CharField()
    space_id = serializers.CharField()
    filename = serializers.CharField()
    media_type = serializers.CharField()
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    status = serializers.CharField()
    failure_reason = serializers.CharField(allow_null=True)
    metadata = serializers.DictField()
    page_count = serializers.IntegerField(allow_null=True)
    char_count = serializers.IntegerField(allow_null=True)
    chunk_count = serializers.IntegerField(allow_null=True)
    created_by = serializers.CharField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
    processed_at = serializers.CharField(allow_null=True)


class ChunkOutput(OutputSerializer):
    id = serializers.CharField()
    document_id = serializers.CharField()
    index = serializers.IntegerField()
    text = serializers.CharField()
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    page = serializers.IntegerField(allow_null=True)
