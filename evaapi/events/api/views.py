from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from evaapi.api.pagination import page_body, page_schema
from evaapi.api.schema import error_responses
from evaapi.api.views import ApiView, input_valid
from evaapi.auth import scopes
from evaapi.events.api.serializers import EventListInput, EventOutput
from evaapi.events.selectors import event_list


class EventListApi(ApiView):
    # Listing events takes spaces:read; each family in the list takes the scope that reads what
    # it describes (evaapi.events.selectors.FAMILY_SCOPES).
    required_scopes = {"GET": scopes.SPACES_READ}

    @extend_schema(parameters=[EventListInput], responses={200: page_schema("EventPage", EventOutput),
                   **error_responses(400, 401, 403, 429)}, tags=["events"], operation_id="event_list")
    def get(self, request):
        data = input_valid(EventListInput, request.query_params)
        events, continuation = event_list(
            tenant=request.user.tenant,
            type_patterns=[data["type"]] if data.get("type") else None,
            principal=request.user,
            field="type",
            space_id=str(data["space_id"]) if data.get("space_id") else None,
            limit=data["limit"],
            continuation=data.get("continuation"),
        )
        return Response(page_body([event.as_dict() for event in events], continuation, EventOutput))
