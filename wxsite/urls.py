from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from followers.views import LEGACY_ADMIN_MODELS, legacy_admin_redirect

admin.site.site_header = "wxsite 公众号后台"
admin.site.site_title = "wxsite"

urlpatterns = [
    path("", include("messaging.urls")),
    path("wechat/<str:appid>/oauth/", include("accounts.urls")),
    path("api/v1/", include("wxsite.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
urlpatterns += i18n_patterns(
    re_path(rf"^admin/accounts/(?P<model>{'|'.join(LEGACY_ADMIN_MODELS)})/(?P<rest>.*)$", legacy_admin_redirect),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)

if settings.SANDBOX_ENABLED:  # never in production; the in-process transport does not go through here
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
