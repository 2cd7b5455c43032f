"""Customer service: kf accounts, pushed to and pulled from WeChat."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

import jobs
from wechat.api import kf as kf_api
from wechat.errors import WeChatError
from wechat.models import SyncStatus

from ..models import KfAccount

logger = logging.getLogger(__name__)


def kf_account_save(*, kf: KfAccount, avatar_changed: bool = False, invite_changed: bool = False) -> KfAccount:
    """Save the local row as the operator edited it and enqueue its sync with WeChat."""
    kf.sync_status = SyncStatus.PENDING
    if avatar_changed and kf.avatar:
        kf.avatar_pending = True
    if invite_changed:
        kf.invite_pending = bool(kf.invite_wx)
    kf.save()
    transaction.on_commit(lambda: _enqueue_kf_sync(kf.pk))
    return kf


def kf_account_delete_request(*, kf: KfAccount) -> None:
    """Deleting is done at WeChat first; the row goes away when the sync has deleted it there."""
    KfAccount.objects.filter(pk=kf.pk).update(delete_requested=True, sync_status=SyncStatus.PENDING)
    transaction.on_commit(lambda: _enqueue_kf_sync(kf.pk))


def kf_account_sync_request(*, kf: KfAccount) -> None:
    KfAccount.objects.filter(pk=kf.pk).exclude(sync_status=SyncStatus.SYNCING).update(sync_status=SyncStatus.PENDING)
    transaction.on_commit(lambda: _enqueue_kf_sync(kf.pk))


def _enqueue_kf_sync(kf_id: int) -> None:
    kf_account_sync = jobs.task("messaging.tasks.kf_account_sync")

    kf_account_sync.delay(kf_id)


def _kf_update(kf: KfAccount, **fields) -> None:
    KfAccount.objects.filter(pk=kf.pk).update(**fields)
    for name, value in fields.items():
        setattr(kf, name, value)


def kf_account_sync(*, kf_account_id: int) -> KfAccount | None:
    """Push one kf account to WeChat: add or update, upload the avatar, send the invitation, or delete.

    Idempotent: the row is claimed (pending → syncing), each step records its progress, and WeChat's
    'already exists' / 'no such account' answers to a repeated step count as done. A transient error puts
    the row back to pending and is re-raised for the task to retry; a permanent one is kept in last_error.
    """
    if not KfAccount.objects.filter(pk=kf_account_id, sync_status=SyncStatus.PENDING).update(sync_status=SyncStatus.SYNCING):
        return None
    kf = KfAccount.objects.select_related("account").get(pk=kf_account_id)
    account = kf.account
    try:
        if kf.delete_requested:
            if kf.exists_at_wechat:
                try:
                    kf_api.kf_delete(account=account, kf_account=kf.kf_account)
                except WeChatError as exc:
                    if exc.errcode != 65401:  # already gone at WeChat
                        raise
            kf.delete()
            return None
        names = {"account": account, "kf_account": kf.kf_account, "nickname": kf.nickname}
        if not kf.exists_at_wechat:
            try:
                kf_api.kf_add(**names)
            except WeChatError as exc:
                if exc.errcode != 65406:  # created by an earlier attempt whose answer was lost
                    raise
                kf_api.kf_update(**names)
            _kf_update(kf, exists_at_wechat=True)
        else:
            kf_api.kf_update(**names)
        if kf.avatar_pending and kf.avatar:
            with kf.avatar.open("rb") as media:
                kf_api.kf_avatar_upload(account=account, kf_account=kf.kf_account, image=media)
            _kf_update(kf, avatar_pending=False)
        if kf.invite_pending and kf.invite_wx:
            try:
                kf_api.kf_invite(account=account, kf_account=kf.kf_account, invite_wx=kf.invite_wx)
            except WeChatError as exc:
                if exc.errcode != 65411:  # the invitation of an earlier attempt is still waiting
                    raise
            _kf_update(kf, invite_pending=False, invite_status=KfAccount.InviteStatus.WAITING)
        for entry in kf_api.kf_list(account=account):
            if entry.get("kf_account") == kf.kf_account:
                _kf_update(kf, **_kf_fields_from_wechat(entry))
    except WeChatError as exc:
        failed = not exc.is_transient
        _kf_update(kf, sync_status=SyncStatus.FAILED if failed else SyncStatus.PENDING, last_error=exc.display[:255])
        logger.warning("kf_account.sync_failed", extra={"kf_account_id": kf.pk, "errcode": exc.errcode})
        if failed:
            return kf
        raise
    _kf_update(kf, sync_status=SyncStatus.SYNCED, synced_at=timezone.now(), last_error="")
    return kf


def kf_account_sync_give_up(*, kf_account_id: int, exc: WeChatError) -> None:
    KfAccount.objects.filter(pk=kf_account_id, sync_status=SyncStatus.PENDING).update(
        sync_status=SyncStatus.FAILED, last_error=exc.display[:255]
    )


def _kf_fields_from_wechat(entry: dict) -> dict:
    expire = entry.get("invite_expire_time")
    fields = {
        "kf_id": str(entry.get("kf_id", ""))[:32],
        "headimg_url": str(entry.get("kf_headimgurl", ""))[:500],
        "kf_wx": str(entry.get("kf_wx", ""))[:64],
        "invite_status": str(entry.get("invite_status", ""))[:16],
        "invite_expire_time": datetime.fromtimestamp(int(expire), tz=timezone.get_current_timezone()) if expire else None,
    }
    if entry.get("invite_wx"):
        fields["invite_wx"] = str(entry["invite_wx"])[:64]
    return fields


def kf_accounts_pull(*, account) -> int:
    """Refresh the kf accounts from WeChat (getkflist + getonlinekflist). Local edits not yet synced are kept."""
    kf_list = kf_api.kf_list(account=account)
    online = {o.get("kf_account"): o for o in kf_api.kf_online_list(account=account)}
    now = timezone.now()
    seen = set()
    with transaction.atomic():
        for entry in kf_list:
            name = str(entry.get("kf_account", ""))
            seen.add(name)
            fields = _kf_fields_from_wechat(entry)
            state = online.get(name) or {}
            fields.update(online_status=int(state.get("status", 0) or 0), accepted_case=int(state.get("accepted_case", 0) or 0))
            kf = KfAccount.objects.filter(account=account, kf_account=name).first()
            if kf is None:
                KfAccount.objects.create(
                    account=account,
                    kf_account=name,
                    nickname=str(entry.get("kf_nick", ""))[:16],
                    exists_at_wechat=True,
                    sync_status=SyncStatus.SYNCED,
                    synced_at=now,
                    **fields,
                )
                continue
            if kf.sync_status == SyncStatus.SYNCED and not kf.delete_requested:
                # Pending or failed rows keep the operator's edit; only WeChat-owned fields are refreshed.
                fields.update(nickname=str(entry.get("kf_nick", ""))[:16], synced_at=now)
            KfAccount.objects.filter(pk=kf.pk).update(exists_at_wechat=True, **fields)
        # Deleted at WeChat (e.g. in the console): drop the rows that were in sync.
        KfAccount.objects.filter(account=account, exists_at_wechat=True, sync_status=SyncStatus.SYNCED).exclude(
            kf_account__in=seen
        ).delete()
    return len(kf_list)
