from rest_framework import serializers

from evaapi.api.fields import StrictCharField
from evaapi.api.pagination import PageInput
from evaapi.api.serializers import OutputSerializer
from webhooks.domain import DeliveryStatus

_EVENT_TYPES_HELP = "Exact event types (space.created), families (space.*) or * for every event."


class WebhookInput(serializers.Serializer):
    url = StrictCharField(max_length=2048)
    event_types = serializers.ListField(child=StrictCharField(max_length=100), min_length=1, max_length=50,
                                        help_text=_EVENT_TYPES_HELP)
    description = StrictCharField(max_length=500, allow_blank=True, required=False, default="")
    active = serializers.BooleanField(required=False, default=True)
    space_ids = serializers.ListField(child=serializers.UUIDField(), max_length=100, required=False,
                                      allow_null=True, default=None,
                                      help_text="Only events of these spaces (default: every space).")


class WebhookPatchInput(serializers.Serializer):
    url = StrictCharField(max_length=2048, required=False)
    event_types = serializers.ListField(child=StrictCharField(max_length=100), min_length=1, max_length=50,
                                        required=False, help_text=_EVENT_TYPES_HELP)
    description = StrictCharField(max_length=500, allow_blank=True, required=False)
    active = serializers.BooleanField(required=False)
    space_ids = serializers.ListField(child=serializers.UUIDField(), max_length=100, required=False, allow_null=True)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Name at least one field to change.")
        return attrs


class RotateInput(serializers.Serializer):
    grace_hours = serializers.FloatField(min_value=0, max_value=168, required=False, allow_null=True, default=None,
                                         help_text="How long the old secret also signs (default 24, at most 168). "
                                                   "While a previous rotation's grace runs, only 0 is accepted "
                                                   "(409 otherwise): it ends that grace at once.")


class RecoverInput(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(required=False, allow_null=True, default=None)


class DeliveryListInput(PageInput):
    status = serializers.ChoiceField(choices=[str(s) for s in DeliveryStatus], required=False)


class LogListInput(PageInput):
    status = serializers.ChoiceField(choices=["succeeded", "failed"], required=False,
                                     help_text="The attempt's outcome.")
    event_type = StrictCharField(max_length=100, required=False)


class DeadLetterListInput(PageInput):
    webhook_id = serializers.UUIDField(required=False)


class WebhookOutput(OutputSerializer):
    id = serializers.CharField()
    tenant_id = serializers.CharField()
    url = serializers.CharField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    space_ids = serializers.ListField(child=serializers.CharField(), allow_null=True)
    active = serializers.BooleanField()
    disabled_reason = serializers.CharField(allow_null=True)
    previous_secret_expires_at = serializers.CharField(allow_null=True)
    successes = serializers.IntegerField()
    failures = serializers.IntegerField()
    consecutive_failures = serializers.IntegerField()
    last_success_at = serializers.CharField(allow_null=True)
    last_failure_at = serializers.CharField(allow_null=True)
    failing_since = serializers.CharField(allow_null=True)
    created_by = serializers.CharField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()


class WebhookWithSecretOutput(WebhookOutput):
    secret = serializers.CharField(help_text="The signing secret (whsec_…). Shown in this response only.")


class DeliveryOutput(OutputSerializer):
    id = serializers.CharField(help_text="The webhook-id header of every attempt.")
    webhook_id = serializers.CharField()
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    space_id = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    attempt_count = serializers.IntegerField()
    next_attempt_at = serializers.CharField(allow_null=True, help_text=(
        "Null while a pending or retrying delivery is parked: its endpoint is paused or disabled, and it is due "
        "once the endpoint is enabled."))
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
    succeeded_at = serializers.CharField(allow_null=True)


class AttemptLogOutput(OutputSerializer):
    id = serializers.CharField()
    delivery_id = serializers.CharField()
    event_type = serializers.CharField()
    attempt = serializers.IntegerField()
    attempted_at = serializers.CharField()
    url = serializers.CharField()
    status = serializers.CharField(source="outcome")
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.FloatField()
    request_headers = serializers.DictField()
    response_body = serializers.CharField(allow_blank=True)
    error_class = serializers.CharField(allow_null=True)
    error_message = serializers.CharField(allow_null=True)


class DeadLetterOutput(OutputSerializer):
    id = serializers.CharField()
    webhook_id = serializers.CharField()
    delivery_id = serializers.CharField()
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    failed_at = serializers.CharField()
    attempt_count = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_null=True)
    replayed_at = serializers.CharField(allow_null=True)
