from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowersConfig(AppConfig):
    name = "followers"
    label = "followers"
    verbose_name = _("Followers and tags")

    def ready(self):
        from . import receivers  # noqa: F401
