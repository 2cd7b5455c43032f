"""REST API v1. Each app adds its routes in its own api/urls.py."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("messaging.templatemsg.api.urls")),
    path("", include("messaging.mass.api.urls")),
]
