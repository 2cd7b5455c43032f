"""The menu buttons a click rule answers, listed on the rule's admin page (registered in ``MenusConfig.ready``)."""

from __future__ import annotations

from django.urls import reverse

from .selectors import buttons_for_click_key


def click_rule_links(rule) -> list[tuple[str, str]]:
    if rule.trigger != "click" or not rule.event_key.strip():
        return []
    return [
        (f"{button.menu.name} › {button.name}", reverse("admin:menus_menu_change", args=[button.menu_id]))
        for button in buttons_for_click_key(account_id=rule.account_id, key=rule.event_key.strip())
    ]
