"""Web pages of an official account's site: OAuth2 web login. Mounted at /wechat/<appid>/oauth/."""

from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("start", views.oauth_start, name="oauth-start"),
    path("callback", views.oauth_callback, name="oauth-callback"),
    path("me", views.oauth_me, name="oauth-me"),
    path("logout", views.oauth_logout, name="oauth-logout"),
]
