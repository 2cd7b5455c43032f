from django.urls import path

from . import views

urlpatterns = [
    path("accounts/<str:appid>/access-token/", views.AccessTokenView.as_view(), name="api-access-token"),
]
