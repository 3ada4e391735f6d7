from django.urls import path

from evaapi.auth.api import views

urlpatterns = [
    path("auth/login", views.LoginApi.as_view(), name="auth-login"),
    path("auth/api-keys", views.ApiKeyListCreateApi.as_view(), name="api-keys"),
    path("auth/api-keys/<str:key_id>", views.ApiKeyDetailApi.as_view(), name="api-key-detail"),
    path("audit-logs", views.AuditLogListApi.as_view(), name="audit-logs"),
]
