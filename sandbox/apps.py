from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = _("Sandbox (offline WeChat)")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from . import endpoints  # noqa: F401  registers the endpoint modules
        from .core import faults_changed
        from .models import SandboxFault

        post_save.connect(faults_changed, sender=SandboxFault, dispatch_uid="sandbox.faults_changed")
        post_delete.connect(faults_changed, sender=SandboxFault, dispatch_uid="sandbox.faults_deleted")
