from django.urls import path

from . import views

urlpatterns = [
    path("accounts/<str:appid>/jssdk-config", views.JssdkConfigView.as_view(), name="api-jssdk-config"),
]
