from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Messaging")

    def ready(self):
        # Each module connects its inbound_received receivers and sandbox seeders on import.
        from . import customer_service, mass, rules  # noqa: F401
        from .template_messages import receivers, seeding, tasks  # noqa: F401
