"""Callback messages and events from WeChat; side effects run after the reply."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboundConfig(AppConfig):
    name = "messaging.inbound"
    label = "inbound"
    verbose_name = _("Inbound messages")

    def ready(self):
        from . import receivers  # noqa: F401
