"""Editing menus: save a tree as button rows, delete a menu, roll back to a published version."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Menu, MenuButton, MenuVersion
from ..selectors import EDITABLE_FIELDS
from ..validation import buttons_clean, matchrule_errors


def buttons_write(*, menu: Menu, tree: list[dict]) -> None:
    """Replace the menu's button rows with ``tree`` (already checked, or pulled as WeChat shows it)."""
    MenuButton.objects.filter(menu=menu).delete()
    for i, button in enumerate(tree):
        subs = button.get("sub_button") or []
        top = MenuButton.objects.create(menu=menu, position=i, **_fields(button, parent=bool(subs)))
        MenuButton.objects.bulk_create(
            [MenuButton(menu=menu, parent=top, position=j, **_fields(sub)) for j, sub in enumerate(subs)]
        )


def _fields(button: dict, *, parent: bool = False) -> dict:
    out = {}
    for field in EDITABLE_FIELDS:
        value = button.get(field)
        if field == "console_value":
            out[field] = value
        else:
            out[field] = "" if value is None else str(value)[: MenuButton._meta.get_field(field).max_length]
    if parent:
        out["type"] = ""
    if out["console_value"] is None and button.get("type") in {"text", "img", "photo", "voice", "video", "news"}:
        # A console-only button: keep what WeChat showed (its value or its articles).
        out["console_value"] = button.get("news_info") or button.get("value") or ""
    return out


def menu_clean(*, menu: Menu, tree) -> list[dict]:
    """The tree in WeChat's shape, or ``ValidationError`` naming every broken rule (buttons and match rule)."""
    messages = matchrule_errors(kind=menu.kind, tag_id=menu.tag_id, client_platform_type=menu.client_platform_type)
    try:
        cleaned = buttons_clean(tree)
    except ValidationError as exc:
        raise ValidationError([*messages, *exc.messages], code="menu") from exc
    if messages:
        raise ValidationError(messages, code="menu")
    return cleaned


@transaction.atomic
def menu_save(*, menu: Menu, tree) -> Menu:
    """Save the operator's edit (checked against WeChat's rules); it goes live only when published."""
    cleaned = menu_clean(menu=menu, tree=tree)
    if menu.kind == Menu.Kind.DEFAULT:
        menu.tag_id, menu.client_platform_type = None, ""
    menu.has_unpublished_changes = True
    menu.save()
    buttons_write(menu=menu, tree=cleaned)
    return menu


@transaction.atomic
def menu_restore(*, version: MenuVersion) -> Menu:
    """Put a published version back into the editor (its menu, or the account's default menu when that is gone)."""
    menu = version.menu
    if menu is None and version.kind == Menu.Kind.DEFAULT:
        menu = Menu.objects.filter(account=version.account, kind=Menu.Kind.DEFAULT).first()
    if menu is None:
        menu = Menu(account=version.account, kind=version.kind, name=f"v{version.number}")
    if menu.kind == Menu.Kind.CONDITIONAL:
        rule = version.matchrule or {}
        menu.tag_id = int(rule["tag_id"]) if str(rule.get("tag_id", "")).isdigit() else None
        menu.client_platform_type = str(rule.get("client_platform_type", ""))
    menu.has_unpublished_changes = True
    menu.save()
    buttons_write(menu=menu, tree=version.buttons)
    return menu
