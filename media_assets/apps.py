from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediaAssetsConfig(AppConfig):
    name = "media_assets"
    verbose_name = _("Content and materials")

    def ready(self):
        from . import receivers  # noqa: F401
