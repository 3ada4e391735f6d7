from django.apps import AppConfig


class SubscriptionsAppConfig(AppConfig):
    name = "subscriptions_app"
    default_auto_field = "django.db.models.BigAutoField"
