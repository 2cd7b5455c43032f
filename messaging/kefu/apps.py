"""Customer service (客服消息): kf accounts, conversations, operator replies."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KefuConfig(AppConfig):
    name = "messaging.kefu"
    label = "kefu"
    verbose_name = _("Customer service")

    def ready(self):
        from . import receivers  # noqa: F401
