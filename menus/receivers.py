"""What menus hooks into, connected in MenusConfig.ready(): the rule page lists the menu buttons that click it."""

from messaging.autoreply.links import rule_link_provider_add

from .links import click_rule_links

rule_link_provider_add(click_rule_links)
