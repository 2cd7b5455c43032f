"""Menu writes: editing (rows), publishing (WeChat, versions, rollback, delete) and pulling the live menu."""

from .editing import buttons_write, menu_clean, menu_restore, menu_save
from .publishing import (
    menu_conditional_unpublish,
    menu_delete,
    menu_publish,
    menu_publish_give_up,
    menu_publish_request,
    menu_rollback,
    menus_delete_live,
)
from .pulling import Drift, LiveMenus, live_drift, live_menus_fetch, menus_pull

__all__ = [
    "Drift",
    "LiveMenus",
    "buttons_write",
    "live_drift",
    "live_menus_fetch",
    "menu_clean",
    "menu_conditional_unpublish",
    "menu_delete",
    "menu_publish",
    "menu_publish_give_up",
    "menu_publish_request",
    "menu_restore",
    "menu_rollback",
    "menu_save",
    "menus_delete_live",
    "menus_pull",
]
