from rest_framework import serializers

from evaapi.api.fields import StrictCharField, StrictFloatField, StrictUUIDField
from evaapi.api.pagination import PageInput
from evaapi.api.serializers import OutputSerializer
from spaces.queries.domain import QUESTION_MAX, TOP_K_DEFAULT, TOP_K_MAX, QueryStatus


class QueryParametersInput(serializers.Serializer):
    top_k = serializers.IntegerField(min_value=1, max_value=TOP_K_MAX, default=TOP_K_DEFAULT,
                                     help_text="How many passages to answer from.")
    temperature = StrictFloatField(min_value=0, max_value=2, required=False, allow_null=True, default=None,
                                   help_text="For a language model provider (azure_openai).")
    max_tokens = serializers.IntegerField(min_value=1, max_value=4096, required=False, allow_null=True,
                                          default=None, help_text="For a language model provider (azure_openai).")
    document_ids = serializers.ListField(child=StrictUUIDField(), min_length=1, max_length=100,
                                         required=False, allow_null=True, default=None,
                                         help_text="Answer only from these documents of the space.")


class QuerySubmitInput(serializers.Serializer):
    question = StrictCharField(min_length=1, max_length=QUESTION_MAX)
    parameters = QueryParametersInput(required=False)


class QueryCreateInput(QuerySubmitInput):
    space_id = StrictUUIDField()


class QueryListInput(PageInput):
    status = serializers.ChoiceField(choices=[str(s) for s in QueryStatus], required=False)


class CitationOutput(OutputSerializer):
    document_id = serializers.CharField()
    filename = serializers.CharField()
    chunk_id = serializers.CharField()
    snippet = serializers.CharField()
    score = serializers.FloatField()


class LatencyOutput(OutputSerializer):
    retrieval = serializers.FloatField()
    generation = serializers.FloatField()
    total = serializers.FloatField()


class QueryResultOutput(OutputSerializer):
    answer = serializers.CharField()
    citations = CitationOutput(many=True)
    provider = serializers.CharField()
    model = serializers.CharField(allow_null=True)
    usage = serializers.DictField(allow_null=True)
    latency_ms = LatencyOutput()


class QueryParametersOutput(OutputSerializer):
    top_k = serializers.IntegerField()
    temperature = serializers.FloatField(allow_null=True)
    max_tokens = serializers.IntegerField(allow_null=True)
    document_ids = serializers.ListField(child=serializers.CharField(), allow_null=True)


class QueryOutput(OutputSerializer):
    id = serializers.CharField()
    tenant_id = serializers.CharField()
    space_id = serializers.CharField()
    question = serializers.CharField()
    parameters = QueryParametersOutput()
    status = serializers.CharField()
    failure_reason = serializers.CharField(allow_null=True)
    result = QueryResultOutput(allow_null=True)
    created_by = serializers.CharField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
    started_at = serializers.CharField(allow_null=True)
    completed_at = serializers.CharField(allow_null=True)
    deadline_at = serializers.CharField()
