"""``{% sandbox_menu app openid as menu %}``: the menu bar of the simulator's phone (sandbox/_menu_bar.html)."""

from django import template

from ..simulator_menu import menu_bar

register = template.Library()


@register.simple_tag
def sandbox_menu(app, openid):
    return menu_bar(app, openid)
