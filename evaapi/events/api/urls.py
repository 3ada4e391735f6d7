from django.urls import path

from evaapi.events.api import views

urlpatterns = [
    path("events", views.EventListApi.as_view(), name="events"),
]
