from django.urls import path

from spaces.queries.api import views

urlpatterns = [
    path("spaces/<str:space_id>/queries", views.SpaceQueriesApi.as_view(), name="space-queries"),
    path("queries", views.QueryCreateApi.as_view(), name="queries"),
    path("queries/<str:query_id>", views.QueryDetailApi.as_view(), name="query-detail"),
    path("queries/<str:query_id>/result", views.QueryResultApi.as_view(), name="query-result"),
    path("queries/<str:query_id>/cancel", views.QueryCancelApi.as_view(), name="query-cancel"),
]
