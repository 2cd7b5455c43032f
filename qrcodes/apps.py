"""Parametric QR codes (带参数二维码): scenes, tickets, PNGs, channel campaigns, scan tracking and actions (API.md §7)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QrcodesConfig(AppConfig):
    name = "qrcodes"
    verbose_name = _("QR codes")

    def ready(self):
        from . import receivers  # noqa: F401
