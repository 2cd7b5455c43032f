from django.urls import path

from . import views

app_name = "inbound"
urlpatterns = [
    path("wechat/<str:appid>/callback/", views.callback, name="callback"),
]
