"""Template messages (模板消息): templates, single messages, group pushes and their API."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TemplatemsgConfig(AppConfig):
    name = "messaging.templatemsg"
    label = "templatemsg"
    verbose_name = _("Template messages")

    def ready(self):
        from . import receivers  # noqa: F401
