from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from wxsite import views

# Admin pages of models that moved to another app keep answering at their old addresses (bookmarks):
# (old app label, model) -> new app label.
MOVED_ADMIN_MODELS = {
    ("accounts", "tag"): "followers",
    ("accounts", "follower"): "followers",
    ("accounts", "followeroperation"): "followers",
    ("accounts", "syncjob"): "followers",
    ("messaging", "inboundmessage"): "inbound",
    ("messaging", "autoreplyrule"): "autoreply",
    ("messaging", "kfaccount"): "kefu",
    ("messaging", "conversation"): "kefu",
    ("messaging", "outboundmessage"): "kefu",
    ("messaging", "messagetemplate"): "templatemsg",
    ("messaging", "templatepush"): "templatemsg",
    ("messaging", "templatemessage"): "templatemsg",
    ("messaging", "massmessage"): "mass",
}


def moved_admin_redirect(request, app: str, model: str, rest: str = ""):
    """301 from /admin/<old app>/<model>/… to /admin/<new app>/<model>/…, query string kept."""
    new = request.path.replace(f"/admin/{app}/{model}/", f"/admin/{MOVED_ADMIN_MODELS[app, model]}/{model}/", 1)
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{new}?{query}" if query else new)


urlpatterns = [
    path("", include("messaging.inbound.urls")),
    path("wechat/<str:appid>/oauth/", include("accounts.urls")),
    path("api/v1/", include("wxsite.api_urls")),
    path("i18n/setlang/", views.set_language, name="set_language"),
    # The API's description is public (it holds no data); Swagger UI's files come from drf-spectacular-sidecar.
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
urlpatterns += i18n_patterns(
    *(
        re_path(rf"^admin/{app}/(?P<model>{model})/(?P<rest>.*)$", moved_admin_redirect, {"app": app})
        for app, model in MOVED_ADMIN_MODELS
    ),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)

if settings.SANDBOX_ENABLED:  # never in production; the in-process transport does not go through here
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
