"""Customer service reads: the 48-hour reply window, conversations, a follower's thread."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging.inbound.models import InboundMessage

from .models import Conversation, KfAccount, OutboundMessage

WINDOW = timedelta(hours=48)


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


def _is_thread_item(inbound: InboundMessage) -> bool:
    return inbound.msg_type != "event" or inbound.event in THREAD_EVENTS


def _is_interaction(inbound: InboundMessage) -> bool:
    return inbound.msg_type != "event" or inbound.event in INTERACTION_EVENTS


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
