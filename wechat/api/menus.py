"""Custom menus (自定义菜单): the default menu, conditional menus, trymatch and the live menu (API.md §6).

Buttons travel in WeChat's own shape (``{"type", "name", "key" | "url" | …, "sub_button": […]}``), as plain dicts:
the menus app validates and builds them, this module only carries them. Answers are returned normalised:
``sub_button`` only on buttons that hold sub-buttons, ``menuid`` as a string, and the live menu's
``{"sub_button": {"list": […]}}`` flattened to the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wechat import gateway
from wechat.errors import WeChatError

from .endpoints import Endpoint

# "menu no exist": menu/get and trymatch when the account has no API-created menu.
NO_MENU = 46003
# The only matchrule fields WeChat still honours; the privacy fields (sex, country, …) are refused with 65320.
MATCHRULE_FIELDS = ("tag_id", "client_platform_type")


@dataclass(frozen=True)
class RemoteMenu:
    buttons: list[dict]
    menuid: str = ""
    matchrule: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MenuConfig:
    """``menu/get``: the API-created default menu (None without one) and the conditional menus, newest first."""

    default: RemoteMenu | None
    conditional: list[RemoteMenu]


@dataclass(frozen=True)
class LiveMenu:
    """``get_current_selfmenu_info``: the menu followers see, whether made through the API or in the console."""

    is_menu_open: bool
    buttons: list[dict]


def _button(raw: dict) -> dict:
    """One button without WeChat's empty ``sub_button`` lists, children normalised in order."""
    subs = raw.get("sub_button")
    if isinstance(subs, dict):  # get_current_selfmenu_info wraps them: {"list": […]}
        subs = subs.get("list")
    out = {k: v for k, v in raw.items() if k != "sub_button"}
    if subs:
        out["sub_button"] = [_button(s) for s in subs if isinstance(s, dict)]
    return out


def buttons_normalised(buttons) -> list[dict]:
    return [_button(b) for b in buttons or [] if isinstance(b, dict)]


def _matchrule(raw: dict | None) -> dict:
    return {str(k): str(v) for k, v in (raw or {}).items() if v not in (None, "")}


def menu_create(*, account, buttons: list[dict]) -> None:
    """Replace the default menu. WeChat checks counts (40016/40023), types, byte sizes and URLs itself too."""
    gateway.call(account, Endpoint.MENU_CREATE, json={"button": buttons})


def menu_get(*, account) -> MenuConfig:
    """The API-created menus; an account without one (46003) has none."""
    try:
        result = gateway.call(account, Endpoint.MENU_GET)
    except WeChatError as exc:
        if exc.errcode == NO_MENU:
            return MenuConfig(default=None, conditional=[])
        raise
    menu = result.get("menu") or {}
    default = None
    if menu.get("button"):
        default = RemoteMenu(buttons=buttons_normalised(menu["button"]), menuid=str(menu.get("menuid") or ""))
    conditional = [
        RemoteMenu(
            buttons=buttons_normalised(c.get("button")),
            menuid=str(c.get("menuid") or ""),
            matchrule=_matchrule(c.get("matchrule")),
        )
        for c in result.get("conditionalmenu") or []
    ]
    return MenuConfig(default=default, conditional=conditional)


def menu_delete(*, account) -> None:
    """Delete the default menu and every conditional menu."""
    gateway.call(account, Endpoint.MENU_DELETE)


def menu_conditional_add(*, account, buttons: list[dict], matchrule: dict) -> str:
    """The new conditional menu's menuid. Values are sent as strings, as WeChat's own sample does."""
    body = {"button": buttons, "matchrule": {str(k): str(v) for k, v in matchrule.items()}}
    return str(gateway.call(account, Endpoint.MENU_ADDCONDITIONAL, json=body)["menuid"])


def menu_conditional_delete(*, account, menuid: str) -> None:
    gateway.call(account, Endpoint.MENU_DELCONDITIONAL, json={"menuid": str(menuid)})


def menu_trymatch(*, account, user_id: str) -> list[dict]:
    """The buttons the follower (an OpenID or a WeChat ID) would see."""
    result = gateway.call(account, Endpoint.MENU_TRYMATCH, json={"user_id": user_id})
    return buttons_normalised(result.get("button") or (result.get("menu") or {}).get("button"))


def menu_live(*, account) -> LiveMenu:
    result = gateway.call(account, Endpoint.MENU_CURRENT_SELFMENU)
    return LiveMenu(
        is_menu_open=bool(int(result.get("is_menu_open") or 0)),
        buttons=buttons_normalised((result.get("selfmenu_info") or {}).get("button")),
    )
