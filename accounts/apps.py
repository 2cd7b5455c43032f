from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Official accounts")

    def ready(self):
        from . import audit, signals  # noqa: F401

        audit.connect()
