from rest_framework import serializers

from evaapi.api.fields import StrictCharField
from evaapi.api.pagination import PageInput
from evaapi.api.serializers import OutputSerializer
from evaapi.auth.scopes import ALL_SCOPES


class LoginInput(serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=4096, trim_whitespace=False)


class ApiKeyCreateInput(serializers.Serializer):
    name = StrictCharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ALL_SCOPES), min_length=1, max_length=20)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    rate_limit_per_minute = serializers.IntegerField(required=False, min_value=1, max_value=1_000_000,
                                                     allow_null=True, default=None)
    rate_limit_burst = serializers.IntegerField(required=False, min_value=1, max_value=100_000, allow_null=True,
                                                default=None)


class LoginOutput(OutputSerializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="seconds")


class ApiKeyOutput(OutputSerializer):
    id = serializers.CharField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    created_at = serializers.CharField()
    created_by = serializers.CharField()
    expires_at = serializers.CharField(allow_null=True)
    revoked_at = serializers.CharField(allow_null=True)
    last_used_at = serializers.CharField(allow_null=True)
    rate_limit_per_minute = serializers.IntegerField(allow_null=True)
    rate_limit_burst = serializers.IntegerField(allow_null=True)


class ApiKeyCreatedOutput(ApiKeyOutput):
    key = serializers.CharField(help_text="The secret key. Shown in this response only.")


class AuditLogListInput(PageInput):
    actor = StrictCharField(required=False, max_length=200)
    action = StrictCharField(required=False, max_length=100)
    resource_type = StrictCharField(required=False, max_length=100)
    resource_id = StrictCharField(required=False, max_length=200)


class AuditEntryOutput(OutputSerializer):
    id = serializers.CharField()
    actor = serializers.CharField()
    action = serializers.CharField()
    outcome = serializers.CharField()
    resource_type = serializers.CharField()
    resource_id = serializers.CharField(allow_null=True)
    request_id = serializers.CharField(allow_null=True)
    client_ip = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
