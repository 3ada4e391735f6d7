"""WebSocket routes. The GraphQL subscription consumer (subscriptions_app) registers here."""

websocket_urlpatterns: list = []
