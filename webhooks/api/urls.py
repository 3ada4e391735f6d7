from django.urls import path

from webhooks.api import views

urlpatterns = [
    # Before webhooks/<id>: "dead-letters" is not a webhook id.
    path("webhooks/dead-letters", views.DeadLetterListApi.as_view(), name="webhook-dead-letters"),
    path("webhooks/dead-letters/<str:letter_id>/replay", views.DeadLetterReplayApi.as_view(),
         name="webhook-dead-letter-replay"),
    path("webhooks", views.WebhookListCreateApi.as_view(), name="webhooks"),
    path("webhooks/<str:webhook_id>", views.WebhookDetailApi.as_view(), name="webhook-detail"),
    path("webhooks/<str:webhook_id>/logs", views.WebhookLogsApi.as_view(), name="webhook-logs"),
    path("webhooks/<str:webhook_id>/test", views.WebhookTestApi.as_view(), name="webhook-test"),
    path("webhooks/<str:webhook_id>/deliveries", views.WebhookDeliveriesApi.as_view(), name="webhook-deliveries"),
    path("webhooks/<str:webhook_id>/deliveries/<str:delivery_id>/retry", views.DeliveryRetryApi.as_view(),
         name="webhook-delivery-retry"),
    path("webhooks/<str:webhook_id>/recover", views.WebhookRecoverApi.as_view(), name="webhook-recover"),
    path("webhooks/<str:webhook_id>/rotate-secret", views.WebhookRotateSecretApi.as_view(),
         name="webhook-rotate-secret"),
]
