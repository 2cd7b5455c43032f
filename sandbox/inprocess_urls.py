"""The URLconf of the in-process transport (``http://sandbox.inprocess/``), apart from the site's public one.

Only machine-to-machine views: the sandbox API (the gateway's calls) and the callback (the sandbox's pushes).
It does not depend on whether ``/sandbox/`` is mounted on the public site.
"""

from django.urls import include, path

from . import views

urlpatterns = [
    path("sandbox/<path:api>", views.api),
    path("", include("messaging.inbound.urls")),
]
