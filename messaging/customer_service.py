"""Customer service (客服消息, API.md §9): kf accounts synced with WeChat, the inbox of follower conversations,
operator replies through message/custom/send within the 48-hour window, and the typing indicator.

Services (writes, side effects) come first, then selectors (reads). Tasks in ``messaging.tasks`` call these.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Max, Q, QuerySet
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wechat.errors import WeChatError, WeChatTimeout
from wechat.models import SyncStatus

from .models import Conversation, InboundMessage, KfAccount, OutboundMessage
from .services import inbound_received

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=48)
TYPING_INTERVAL_SECONDS = 10

# Follower actions that open the 48-hour window (API.md §9). WeChat's case, plus lower case to be safe.
INTERACTION_EVENTS = ["subscribe", "CLICK", "SCAN", "scancode_push", "scancode_waitmsg", "click", "scan"]
# Events shown in a follower's thread besides the interactions.
THREAD_EVENTS = [
    *INTERACTION_EVENTS,
    "unsubscribe",
    "VIEW",
    "view",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
    "view_miniprogram",
]


class ReplyWindowClosed(Exception):
    """The follower's last interaction is older than 48 hours: WeChat would refuse with 45015."""


# ---------------------------------------------------------------------------------------------
# Conversations


def _inbound_preview(inbound: InboundMessage) -> str:
    if inbound.msg_type == "text":
        return inbound.content
    if inbound.msg_type == "event":
        key = f": {inbound.event_key}" if inbound.event_key else ""
        return f"[{inbound.event}{key}]"
    return f"[{inbound.msg_type}] {inbound.content}".strip()


def outbound_preview(payload: dict) -> str:
    msgtype = payload.get("msgtype", "")
    body = payload.get(msgtype) or {}
    if msgtype == "text":
        return str(body.get("content", ""))
    if msgtype == "news":
        articles = body.get("articles") or [{}]
        return f"[news] {articles[0].get('title', '')}"
    if msgtype == "miniprogrampage":
        return f"[miniprogrampage] {body.get('title', '')}"
    return f"[{msgtype}]"


def _is_thread_item(inbound: InboundMessage) -> bool:
    return inbound.msg_type != "event" or inbound.event in THREAD_EVENTS


def _is_interaction(inbound: InboundMessage) -> bool:
    return inbound.msg_type != "event" or inbound.event in INTERACTION_EVENTS


def conversation_record_inbound(*, inbound: InboundMessage) -> Conversation | None:
    """Put a follower's message or event in their conversation, count it unread, and move the 48-hour window."""
    if not inbound.openid or not _is_thread_item(inbound):
        return None
    at = inbound.create_time
    interaction_at = at if _is_interaction(inbound) else None
    unread = 1 if inbound.msg_type != "event" else 0
    conversation, created = Conversation.objects.get_or_create(
        account_id=inbound.account_id,
        openid=inbound.openid,
        defaults={
            "last_message_at": at,
            "last_preview": _inbound_preview(inbound)[:120],
            "last_interaction_at": interaction_at,
            "unread_count": unread,
        },
    )
    if not created:
        # Conditional updates, so concurrent workers never move a conversation back in time.
        row = Conversation.objects.filter(pk=conversation.pk)
        if unread:
            row.update(unread_count=F("unread_count") + 1)
        row.filter(last_message_at__lte=at).update(
            last_message_at=at, last_preview=_inbound_preview(inbound)[:120], last_from_follower=True
        )
        if interaction_at:
            row.filter(Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lt=interaction_at)).update(
                last_interaction_at=interaction_at
            )
    # Follower.last_interaction_at is moved by the followers' own receiver (accounts.receivers).
    return conversation


def conversations_backfill(*, account, batch_size: int = 2000) -> int:
    """Create the conversations of followers whose messages predate the inbox (read, without preview). Returns how many."""
    existing = set(Conversation.objects.filter(account=account).values_list("openid", flat=True))
    threads = (
        InboundMessage.objects.filter(account=account)
        .filter(~Q(msg_type="event") | Q(event__in=THREAD_EVENTS))
        .exclude(openid="")
        .values("openid")
        .annotate(last=Max("create_time"), interaction=Max("create_time", filter=interaction_filter()))
        .order_by()
    )
    missing = (
        Conversation(account=account, openid=t["openid"], last_message_at=t["last"], last_interaction_at=t["interaction"])
        for t in threads.iterator()
        if t["openid"] not in existing
    )
    created = 0
    while batch := list(itertools.islice(missing, batch_size)):
        Conversation.objects.bulk_create(batch, ignore_conflicts=True)
        created += len(batch)
    return created


@receiver(inbound_received, dispatch_uid="messaging.customer_service.conversation")
def _inbound_to_conversation(sender, inbound, **kwargs):
    conversation_record_inbound(inbound=inbound)


def conversation_mark_read(*, conversation: Conversation, up_to: datetime | None = None) -> None:
    """The operator has seen the thread up to ``up_to`` (the newest message shown); later ones stay unread."""
    with transaction.atomic():
        # Locked, so a message counted by a concurrent worker is neither lost nor counted twice.
        Conversation.objects.select_for_update().filter(pk=conversation.pk).values_list("pk", flat=True).first()
        remaining = 0
        if up_to is not None:
            remaining = (
                InboundMessage.objects.filter(
                    account_id=conversation.account_id, openid=conversation.openid, create_time__gt=up_to
                )
                .exclude(msg_type="event")
                .count()
            )
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=remaining, last_read_at=timezone.now())
    conversation.unread_count = remaining


def _conversation_touch_outbound(outbound: OutboundMessage) -> None:
    preview = outbound_preview(outbound.payload)[:120]
    conversation, created = Conversation.objects.get_or_create(
        account_id=outbound.account_id,
        openid=outbound.openid,
        defaults={"last_message_at": outbound.created_at, "last_preview": preview, "last_from_follower": False},
    )
    if not created:
        Conversation.objects.filter(pk=conversation.pk, last_message_at__lte=outbound.created_at).update(
            last_message_at=outbound.created_at, last_preview=preview, last_from_follower=False
        )


# ---------------------------------------------------------------------------------------------
# Customer-service messages (message/custom/send)


def reply_payload(*, kind: str, fields: dict) -> dict:
    """WeChat's message/custom/send body (without touser) for an operator reply."""
    if kind == "text":
        return {"msgtype": "text", "text": {"content": fields["content"]}}
    if kind == "image":
        return {"msgtype": "image", "image": {"media_id": fields["media_id"]}}
    if kind == "news":
        article = {k: fields.get(k, "") for k in ("title", "description", "url", "picurl")}
        return {"msgtype": "news", "news": {"articles": [article]}}
    if kind == "miniprogrampage":
        card = {k: fields.get(k, "") for k in ("appid", "pagepath", "title", "thumb_media_id")}
        return {"msgtype": "miniprogrampage", "miniprogrampage": card}
    raise ValueError(f"unknown reply kind {kind!r}")


def outbound_create(
    *,
    account,
    openid: str,
    payload: dict,
    kf_account: str = "",
    operator=None,
    source: str = OutboundMessage.Source.AUTO_REPLY,
    task_id: str = "",
) -> OutboundMessage:
    if task_id:
        existing = OutboundMessage.objects.filter(account=account, task_id=task_id).first()
        if existing is not None:
            return existing
    outbound = OutboundMessage.objects.create(
        account=account,
        openid=openid,
        msgtype=str(payload.get("msgtype", ""))[:32],
        payload=payload,
        kf_account=kf_account,
        operator=operator,
        source=source,
        task_id=task_id[:64],
    )
    _conversation_touch_outbound(outbound)
    return outbound


def outbound_send(*, outbound: OutboundMessage) -> dict:
    """Send a queued message once. Claimed with a conditional update, so a redelivered task never sends twice.

    Records the outcome on the row and re-raises WeChat's error: transient ones leave the row queued for a
    retry, a timeout leaves it 'unknown' (WeChat may have delivered it; it is not resent).
    """
    from wechat.gateway import client_for

    claimed = OutboundMessage.objects.filter(pk=outbound.pk, status=OutboundMessage.Status.QUEUED).update(
        status=OutboundMessage.Status.SENDING, attempts=F("attempts") + 1
    )
    outbound.refresh_from_db()
    if not claimed and outbound.status == OutboundMessage.Status.SENDING:
        # A worker stopped during the call: WeChat may have delivered it, so it is not sent again.
        OutboundMessage.objects.filter(pk=outbound.pk, status=OutboundMessage.Status.SENDING).update(
            status=OutboundMessage.Status.UNKNOWN, errmsg="interrupted during the call"
        )
        outbound.refresh_from_db()
    if not claimed:
        logger.info("customer_service.send_skipped", extra={"outbound_id": outbound.pk, "status": outbound.status})
        return {"errcode": outbound.errcode or 0, "errmsg": "not queued", "status": outbound.status}
    body = {"touser": outbound.openid, **outbound.payload}
    if outbound.kf_account:
        body["customservice"] = {"kf_account": outbound.kf_account}
    try:
        result = client_for(outbound.account).post("message/custom/send", data=body)
    except WeChatError as exc:
        if isinstance(exc, WeChatTimeout):
            status = OutboundMessage.Status.UNKNOWN
        elif exc.is_transient:
            status = OutboundMessage.Status.QUEUED
        else:
            status = OutboundMessage.Status.FAILED
        OutboundMessage.objects.filter(pk=outbound.pk).update(status=status, errcode=exc.errcode, errmsg=exc.errmsg[:255])
        logger.warning(
            "customer_service.send_failed", extra={"outbound_id": outbound.pk, "errcode": exc.errcode, "status": status}
        )
        raise
    OutboundMessage.objects.filter(pk=outbound.pk).update(
        status=OutboundMessage.Status.SENT, sent_at=timezone.now(), errcode=None, errmsg=""
    )
    return result


def outbound_give_up(*, outbound_id: int, exc: WeChatError) -> None:
    """Retries exhausted on a transient error: the message is failed, shown with the last error."""
    OutboundMessage.objects.filter(pk=outbound_id, status=OutboundMessage.Status.QUEUED).update(
        status=OutboundMessage.Status.FAILED, errcode=exc.errcode, errmsg=exc.errmsg[:255]
    )


def operator_reply_queue(*, account, openid: str, payload: dict, operator, kf_account: str = "") -> OutboundMessage:
    """An operator's reply from the inbox: refused outside the 48-hour window, else queued and sent by a task."""
    window = reply_window(account=account, openid=openid)
    if not window.is_open:
        raise ReplyWindowClosed(window.explanation)
    outbound = outbound_create(
        account=account,
        openid=openid,
        payload=payload,
        kf_account=kf_account,
        operator=operator,
        source=OutboundMessage.Source.OPERATOR,
    )
    transaction.on_commit(lambda: _enqueue_outbound(outbound.pk))
    return outbound


def _enqueue_outbound(outbound_id: int) -> None:
    from .tasks import customer_service_send

    customer_service_send.delay(outbound_id)


def typing_request(*, account, openid: str) -> bool:
    """Show 'typing…' on the follower's phone, at most once every 10 s per conversation. Returns whether enqueued."""
    if not reply_window(account=account, openid=openid).is_open:
        return False
    if not cache.add(f"kf:typing:{account.pk}:{openid}", 1, TYPING_INTERVAL_SECONDS):
        return False
    from .tasks import customer_service_typing

    transaction.on_commit(lambda: customer_service_typing.delay(account.pk, openid))
    return True


def typing_send(*, account, openid: str) -> bool:
    """POST message/custom/typing. Cosmetic: a refusal is logged, never retried."""
    from wechat.gateway import client_for

    try:
        client_for(account).post("message/custom/typing", data={"touser": openid, "command": "Typing"})
    except WeChatError as exc:
        logger.info("customer_service.typing_failed", extra={"appid": account.appid, "errcode": exc.errcode})
        return False
    return True


# ---------------------------------------------------------------------------------------------
# kf accounts (客服帐号), synced with WeChat


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
    from .tasks import kf_account_sync

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
    from wechat.gateway import client_for

    if not KfAccount.objects.filter(pk=kf_account_id, sync_status=SyncStatus.PENDING).update(sync_status=SyncStatus.SYNCING):
        return None
    kf = KfAccount.objects.select_related("account").get(pk=kf_account_id)
    client = client_for(kf.account)
    try:
        if kf.delete_requested:
            if kf.exists_at_wechat:
                try:
                    client.get(client.api_url("customservice/kfaccount/del"), params={"kf_account": kf.kf_account})
                except WeChatError as exc:
                    if exc.errcode != 65401:  # already gone at WeChat
                        raise
            kf.delete()
            return None
        body = {"kf_account": kf.kf_account, "nickname": kf.nickname}
        if not kf.exists_at_wechat:
            try:
                client.post(client.api_url("customservice/kfaccount/add"), data=body)
            except WeChatError as exc:
                if exc.errcode != 65406:  # created by an earlier attempt whose answer was lost
                    raise
                client.post(client.api_url("customservice/kfaccount/update"), data=body)
            _kf_update(kf, exists_at_wechat=True)
        else:
            client.post(client.api_url("customservice/kfaccount/update"), data=body)
        if kf.avatar_pending and kf.avatar:
            with kf.avatar.open("rb") as media:
                client.customservice.upload_headimg(kf.kf_account, media)
            _kf_update(kf, avatar_pending=False)
        if kf.invite_pending and kf.invite_wx:
            try:
                client.post(
                    client.api_url("customservice/kfaccount/inviteworker"),
                    data={"kf_account": kf.kf_account, "invite_wx": kf.invite_wx},
                )
            except WeChatError as exc:
                if exc.errcode != 65411:  # the invitation of an earlier attempt is still waiting
                    raise
            _kf_update(kf, invite_pending=False, invite_status=KfAccount.InviteStatus.WAITING)
        for entry in client.customservice.get_accounts():
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
    from wechat.gateway import client_for

    client = client_for(account)
    kf_list = client.customservice.get_accounts()
    online = {o.get("kf_account"): o for o in client.customservice.get_online_accounts()}
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


# ---------------------------------------------------------------------------------------------
# Selectors


def interaction_filter() -> Q:
    return ~Q(msg_type="event") | Q(event__in=INTERACTION_EVENTS)


def last_interaction_at(*, account, openid: str) -> datetime | None:
    """The newest message, menu click, follow or scan of the follower: the start of the 48-hour window."""
    return (
        InboundMessage.objects.filter(account=account, openid=openid)
        .filter(interaction_filter())
        .aggregate(at=Max("create_time"))["at"]
    )


@dataclass(frozen=True)
class ReplyWindow:
    last_interaction_at: datetime | None
    now: datetime

    @property
    def closes_at(self) -> datetime | None:
        return self.last_interaction_at + WINDOW if self.last_interaction_at else None

    @property
    def is_open(self) -> bool:
        return self.closes_at is not None and self.now < self.closes_at

    @property
    def hours_left(self) -> int:
        if not self.is_open:
            return 0
        return max(1, math.floor((self.closes_at - self.now).total_seconds() / 3600))

    @property
    def label(self) -> str:
        if self.is_open:
            return _("Can reply (可回复) · %(hours)s h left") % {"hours": self.hours_left}
        return _("Over 48 hours (已超过 48 小时)")

    @property
    def explanation(self) -> str:
        if self.is_open:
            return ""
        if self.last_interaction_at is None:
            return str(
                _(
                    "This follower has not sent a message, clicked a menu, followed or scanned a QR code yet. "
                    "WeChat allows customer-service messages only within 48 hours after such an interaction (error 45015)."
                )
            )
        return str(
            _(
                "The follower's last interaction was at %(at)s, more than 48 hours ago. WeChat allows customer-service "
                "messages only within 48 hours after the follower sends a message, clicks a menu, follows or scans a "
                "QR code (error 45015). Wait until they write again, or use a template message."
            )
        ) % {"at": timezone.localtime(self.last_interaction_at).strftime("%Y-%m-%d %H:%M")}


def reply_window(*, account, openid: str, now: datetime | None = None) -> ReplyWindow:
    return ReplyWindow(last_interaction_at(account=account, openid=openid), now or timezone.now())


def window_for_conversation(conversation: Conversation, now: datetime | None = None) -> ReplyWindow:
    return ReplyWindow(conversation.last_interaction_at, now or timezone.now())


def conversations_for_accounts(*, accounts, search: str = "", unread_only: bool = False) -> QuerySet[Conversation]:
    qs = Conversation.objects.filter(account__in=accounts).select_related("account").order_by("-last_message_at", "-id")
    if search:
        from followers.models import Follower

        remarked = Follower.objects.filter(account__in=accounts, remark__icontains=search).values("openid")
        qs = qs.filter(Q(openid__icontains=search) | Q(openid__in=remarked))
    if unread_only:
        qs = qs.filter(unread_count__gt=0)
    return qs


@dataclass(frozen=True)
class ThreadItem:
    at: datetime
    inbound: InboundMessage | None = None
    outbound: OutboundMessage | None = None


def conversation_thread(*, conversation: Conversation, limit: int = 200) -> list[ThreadItem]:
    """The newest ``limit`` follower messages and customer-service messages, oldest first."""
    inbound = (
        InboundMessage.objects.filter(account_id=conversation.account_id, openid=conversation.openid)
        .filter(~Q(msg_type="event") | Q(event__in=THREAD_EVENTS))
        .order_by("-create_time", "-id")[:limit]
    )
    outbound = OutboundMessage.objects.filter(account_id=conversation.account_id, openid=conversation.openid).select_related(
        "operator"
    )[:limit]
    items = [ThreadItem(at=m.create_time, inbound=m) for m in inbound]
    items += [ThreadItem(at=m.created_at, outbound=m) for m in outbound]
    items.sort(key=lambda item: item.at)
    return items[-limit:]


def kf_accounts_for_reply(*, account) -> QuerySet[KfAccount]:
    return KfAccount.objects.filter(account=account, exists_at_wechat=True, delete_requested=False).order_by("kf_account")


def follower_label(*, account, openid: str) -> str:
    from followers.models import Follower

    remark = Follower.objects.filter(account=account, openid=openid).values_list("remark", flat=True).first()
    return remark or openid


# ---------------------------------------------------------------------------------------------
# Sandbox demo data


def sandbox_seed_kf_account(*, account, app) -> None:
    """One kf account for the sandbox account, created through WeChat's API like an operator's would be."""
    kf_account = f"kefu1@{app.original_id}"
    if KfAccount.objects.filter(account=account, kf_account=kf_account).exists():
        return
    kf = KfAccount.objects.create(account=account, kf_account=kf_account, nickname="小微客服")
    try:
        kf_account_sync(kf_account_id=kf.pk)
    except WeChatError as exc:
        logger.warning("kf_account.seed_failed", extra={"appid": account.appid, "errcode": exc.errcode})


def _register_seeder() -> None:
    from sandbox.seeding import SEEDERS

    if sandbox_seed_kf_account not in SEEDERS:
        SEEDERS.append(sandbox_seed_kf_account)


_register_seeder()
