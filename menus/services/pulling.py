"""Pulling the live menu from WeChat into the editor (menu/get and get_current_selfmenu_info)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wechat.api import menus as menu_api
from wechat.models import SyncStatus

from ..models import Menu
from ..selectors import DiffRow, buttons_diff, menu_default, menu_tree, version_last_published
from .editing import buttons_write


@dataclass(frozen=True)
class LiveMenus:
    """What WeChat shows now. ``default`` is None when the account has no menu."""

    default: list[dict] | None
    default_menuid: str
    conditional: list[menu_api.RemoteMenu]
    is_menu_open: bool
    made_in_console: bool  # get_current_selfmenu_info shows a menu that menu/get does not: the console made it


@dataclass(frozen=True)
class Drift:
    """How the live default menu differs from the last version published from here and from the editor."""

    live: LiveMenus
    published_number: int | None
    from_published: list[DiffRow] = field(default_factory=list)
    from_editor: list[DiffRow] = field(default_factory=list)
    editor_has_unpublished_changes: bool = False

    @property
    def live_changed_elsewhere(self) -> bool:
        """The live menu is not the one last published from here (changed in the console or by another tool)."""
        return bool(self.from_published) or (self.published_number is None and self.live.default is not None)


def live_menus_fetch(*, account) -> LiveMenus:
    config = menu_api.menu_get(account=account)
    live = menu_api.menu_live(account=account)
    if config.default is not None:
        return LiveMenus(config.default.buttons, config.default.menuid, config.conditional, live.is_menu_open, False)
    if live.buttons:
        return LiveMenus(live.buttons, "", [], live.is_menu_open, True)
    return LiveMenus(None, "", [], live.is_menu_open, False)


def live_drift(*, account, live: LiveMenus | None = None) -> Drift:
    live = live or live_menus_fetch(account=account)
    published = version_last_published(account=account)
    menu = menu_default(account=account)
    current = live.default or []
    return Drift(
        live=live,
        published_number=published.number if published else None,
        from_published=buttons_diff(published.buttons, current) if published else [],
        from_editor=buttons_diff(menu_tree(menu=menu), current) if menu else [],
        editor_has_unpublished_changes=bool(menu and menu.has_unpublished_changes),
    )


@transaction.atomic
def menus_pull(*, account, live: LiveMenus) -> list[str]:
    """Overwrite the editor with the live menus. Returns warnings for the operator (rules WeChat no longer honours)."""
    warnings = []
    now = timezone.now()
    synced = {"sync_status": SyncStatus.SYNCED, "synced_at": now, "last_error": "", "has_unpublished_changes": False}
    if live.default is not None:
        menu = menu_default(account=account) or Menu(account=account, kind=Menu.Kind.DEFAULT, name=_("Default menu"))
        menu.menuid = live.default_menuid
        for name, value in synced.items():
            setattr(menu, name, value)
        menu.save()
        buttons_write(menu=menu, tree=live.default)
    seen = []
    for remote in live.conditional:
        seen.append(remote.menuid)
        rule = dict(remote.matchrule)
        ignored = sorted(set(rule) - set(menu_api.MATCHRULE_FIELDS))
        if ignored:
            warnings.append(
                _(
                    "Conditional menu %(menuid)s also matches by %(fields)s: WeChat no longer honours these (65320); only the tag and platform were kept."
                )
                % {"menuid": remote.menuid, "fields": ", ".join(ignored)}
            )
        menu = Menu.objects.filter(account=account, kind=Menu.Kind.CONDITIONAL, menuid=remote.menuid).first() or Menu(
            account=account, kind=Menu.Kind.CONDITIONAL, name=_("Conditional menu %(menuid)s") % {"menuid": remote.menuid}
        )
        menu.menuid = remote.menuid
        tag = rule.get("tag_id", "")
        menu.tag_id = int(tag) if tag.isdigit() else None
        platform = rule.get("client_platform_type", "")
        menu.client_platform_type = platform if platform in Menu.Platform.values else ""
        for name, value in synced.items():
            setattr(menu, name, value)
        menu.save()
        buttons_write(menu=menu, tree=remote.buttons)
    # Conditional menus gone from WeChat stay here as unpublished drafts.
    Menu.objects.filter(account=account, kind=Menu.Kind.CONDITIONAL).exclude(menuid="").exclude(menuid__in=seen).update(
        menuid="", has_unpublished_changes=True
    )
    return warnings
