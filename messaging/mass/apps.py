"""Mass sends (群发): compose, schedule, send in batches, results, recurrence and the API."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MassConfig(AppConfig):
    name = "messaging.mass"
    label = "mass"
    verbose_name = _("Mass sends")

    def ready(self):
        from . import receivers  # noqa: F401
