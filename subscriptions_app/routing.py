from django.urls import path

from subscriptions_app.consumer import GraphQLConsumer

# The same path as GraphQL over HTTP: clients point both at one URL.
websocket_urlpatterns = [path("graphql", GraphQLConsumer.as_asgi())]
