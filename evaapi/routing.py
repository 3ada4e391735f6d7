"""WebSocket routes: GraphQL over WebSocket (subscriptions_app)."""

from subscriptions_app.routing import websocket_urlpatterns

__all__ = ["websocket_urlpatterns"]
