from django.urls import path

from . import views

urlpatterns = [
    path("accounts/<str:appid>/access-token/", views.AccessTokenView.as_view(), name="api-access-token"),
    path("accounts/<str:appid>/jssdk-config/", views.JssdkConfigView.as_view(), name="api-jssdk-config"),
    # The first release published the path without the trailing slash; integrators may still call it.
    path("accounts/<str:appid>/jssdk-config", views.JssdkConfigView.as_view(), name="api-jssdk-config-no-slash"),
]
