from django.urls import path

from spaces.api import views

urlpatterns = [
    path("spaces", views.SpaceListCreateApi.as_view(), name="spaces"),
    path("spaces/<str:space_id>", views.SpaceDetailApi.as_view(), name="space-detail"),
]
