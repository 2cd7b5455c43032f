"""The site's URLconf without /sandbox/, as in a deployment that does not mount it publicly."""

from wxsite.urls import urlpatterns as site_urlpatterns

urlpatterns = [pattern for pattern in site_urlpatterns if not str(pattern.pattern).startswith("sandbox/")]
