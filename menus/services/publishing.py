"""Publishing menus to WeChat (menu/create, addconditional), versions, rollback and deleting the live menu."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

import jobs
from wechat.api import menus as menu_api
from wechat.errors import WeChatError
from wechat.models import SyncStatus

from ..models import Menu, MenuVersion
from ..selectors import menu_tree
from .editing import menu_clean, menu_restore

logger = logging.getLogger(__name__)

# delconditional's "no such conditional menu": already gone at WeChat.
NO_CONDITIONAL_MENU = 65301


def _enqueue(task_name: str, *args) -> None:

    transaction.on_commit(lambda: jobs.task(f"menus.tasks.{task_name}").delay(*args))


def menu_publish_request(*, menu: Menu, user=None, rollback_of: int | None = None) -> None:
    """Check the menu against WeChat's rules, then queue its publish. ``ValidationError`` lists what to fix."""
    menu_clean(menu=menu, tree=menu_tree(menu=menu))
    claimed = (
        Menu.objects.filter(pk=menu.pk)
        .exclude(sync_status=SyncStatus.SYNCING)
        .update(sync_status=SyncStatus.PENDING, last_error="", publish_requested_by=user, publish_rollback_of=rollback_of)
    )
    if not claimed:
        raise ValidationError(_("This menu is being published right now; try again in a moment."), code="busy")
    _enqueue("menu_publish", menu.pk)


def _update(menu: Menu, **fields) -> None:
    Menu.objects.filter(pk=menu.pk).update(**fields)
    for name, value in fields.items():
        setattr(menu, name, value)


def _adopt(account, buttons: list[dict], matchrule: dict) -> str:
    """The menuid of a conditional menu identical to ours at WeChat (made by an attempt whose answer was lost)."""
    for remote in menu_api.menu_get(account=account).conditional:
        if remote.buttons == buttons and remote.matchrule == matchrule:
            return remote.menuid
    return ""


def menu_publish(*, menu_id: int, retrying: bool = False) -> MenuVersion | None:
    """Publish one menu: claim it (pending → syncing), call WeChat, record the version WeChat accepted.

    A conditional menu cannot be edited at WeChat: the old one is deleted, then the new one added. A transient
    error puts the menu back to pending and is raised for the task to retry; a permanent one is kept in last_error.
    """
    if not Menu.objects.filter(pk=menu_id, sync_status=SyncStatus.PENDING).update(sync_status=SyncStatus.SYNCING):
        return None
    menu = Menu.objects.select_related("account").get(pk=menu_id)
    account = menu.account
    try:
        buttons = menu_clean(menu=menu, tree=menu_tree(menu=menu))
    except ValidationError as exc:
        _update(menu, sync_status=SyncStatus.FAILED, last_error=" ".join(exc.messages)[:255])
        return None
    matchrule = menu.matchrule
    try:
        if menu.kind == Menu.Kind.DEFAULT:
            menu_api.menu_create(account=account, buttons=buttons)
            menuid = ""
        else:
            menuid = _adopt(account, buttons, matchrule) if retrying else ""
            if not menuid:
                if menu.menuid:
                    try:
                        menu_api.menu_conditional_delete(account=account, menuid=menu.menuid)
                    except WeChatError as exc:
                        if exc.errcode != NO_CONDITIONAL_MENU:
                            raise
                    _update(menu, menuid="")
                menuid = menu_api.menu_conditional_add(account=account, buttons=buttons, matchrule=matchrule)
    except WeChatError as exc:
        failed = not exc.is_transient
        _update(menu, sync_status=SyncStatus.FAILED if failed else SyncStatus.PENDING, last_error=exc.display[:255])
        logger.warning("menu.publish_failed", extra={"menu_id": menu.pk, "errcode": exc.errcode})
        if failed:
            return None
        raise
    with transaction.atomic():
        number = (MenuVersion.objects.filter(account=account).aggregate(n=Max("number"))["n"] or 0) + 1
        version = MenuVersion.objects.create(
            account=account,
            menu=menu,
            kind=menu.kind,
            number=number,
            buttons=buttons,
            matchrule=matchrule,
            menuid=menuid,
            source=MenuVersion.Source.ROLLBACK if menu.publish_rollback_of else MenuVersion.Source.PUBLISHED,
            rolled_back_from=menu.publish_rollback_of,
            published_by=menu.publish_requested_by,
        )
        _update(
            menu,
            sync_status=SyncStatus.SYNCED,
            synced_at=timezone.now(),
            last_error="",
            menuid=menuid,
            has_unpublished_changes=False,
            publish_requested_by=None,
            publish_rollback_of=None,
        )
    logger.info("menu.published", extra={"menu_id": menu.pk, "version": number})
    return version


def menu_publish_give_up(*, menu_id: int, exc: WeChatError) -> None:
    Menu.objects.filter(pk=menu_id, sync_status=SyncStatus.PENDING).update(
        sync_status=SyncStatus.FAILED, last_error=exc.display[:255]
    )


def menu_rollback(*, version: MenuVersion, user=None) -> Menu:
    """One action: the version's buttons (and match rule) go back into its menu and are published again."""
    with transaction.atomic():
        menu = menu_restore(version=version)
        menu_publish_request(menu=menu, user=user, rollback_of=version.number)
    return menu


def menus_delete_live(*, account) -> None:
    """menu/delete: the default menu and every conditional menu leave WeChat; the rows stay as drafts."""
    menu_api.menu_delete(account=account)
    Menu.objects.filter(account=account).update(
        menuid="", has_unpublished_changes=True, sync_status=SyncStatus.SYNCED, last_error="", synced_at=timezone.now()
    )


def menu_delete(*, menu: Menu) -> None:
    """Delete a menu here; a published conditional menu is deleted at WeChat too (after commit, in a task)."""
    if menu.kind == Menu.Kind.CONDITIONAL and menu.menuid:
        _enqueue("menu_conditional_unpublish", menu.account_id, menu.menuid)
    menu.delete()


def menu_conditional_unpublish(*, account, menuid: str) -> None:
    try:
        menu_api.menu_conditional_delete(account=account, menuid=menuid)
    except WeChatError as exc:
        if exc.errcode != NO_CONDITIONAL_MENU:
            raise
