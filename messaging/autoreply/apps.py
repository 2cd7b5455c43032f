"""Auto-reply rules (自动回复): passive replies chosen in the callback, follow-ups through customer service."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutoreplyConfig(AppConfig):
    name = "messaging.autoreply"
    label = "autoreply"
    verbose_name = _("Auto-reply")

    def ready(self):
        from messaging.inbound.replies import reply_provider_set

        from . import receivers  # noqa: F401
        from .matching import reply_for

        reply_provider_set(reply_for)
