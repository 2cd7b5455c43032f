from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = _("Sandbox (offline WeChat)")

    def ready(self):
        from . import endpoints  # noqa: F401  registers the endpoint modules
