from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MenusConfig(AppConfig):
    name = "menus"
    verbose_name = _("Custom menus")

    def ready(self):
        from messaging.autoreply.links import rule_link_provider_add

        from .links import click_rule_links

        rule_link_provider_add(click_rule_links)
