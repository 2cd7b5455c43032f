"""Customer service reads: the one 48-hour reply window, conversations, a follower's thread."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followers.models import Follower
from messaging.inbound.models import InboundMessage
from messaging.inbound.selectors import from_followers_filter
from messaging.mass.models import MassBatch
from messaging.mass.selectors import mass_batches_to_follower
from messaging.mass.selectors import message_value as mass_message_value
from messaging.templatemsg.models import TemplateMessage
from messaging.templatemsg.selectors import template_message_text, template_messages_to_follower
from wechat.crypto import CallbackError
from wechat.message_kinds import CUSTOMER_SERVICE_WINDOW, FOLLOWER_EVENTS, is_interaction
from wechat.outgoing import OutgoingMessage, TransferCustomerService, UnsupportedMessage, reply_from_xml, summary

from .models import Conversation, KfAccount, OutboundMessage

# Events shown in a follower's thread: everything they did except periodic location reports (lower case).
THREAD_EVENTS = FOLLOWER_EVENTS - {"location"}


def is_thread_item(inbound: InboundMessage) -> bool:
    """A follower's message, or an event of theirs worth showing (not location reports or system events)."""
    return inbound.msg_type != "event" or (inbound.event or "").lower() in THREAD_EVENTS


def thread_filter() -> Q:
    """``is_thread_item`` as a query, on the lower-cased event."""
    return ~Q(msg_type="event") | Q(event_lower__in=THREAD_EVENTS)


def is_window_interaction(inbound: InboundMessage) -> bool:
    return is_interaction(msg_type=inbound.msg_type, event=inbound.event)


# --- The 48-hour window ------------------------------------------------------------------------------
# The stored fact is Follower.last_interaction_at (moved forward by followers.services.events); the rule is here.


@dataclass(frozen=True)
class ReplyWindow:
    last_interaction_at: datetime | None
    now: datetime

    @property
    def closes_at(self) -> datetime | None:
        return self.last_interaction_at + CUSTOMER_SERVICE_WINDOW if self.last_interaction_at else None

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


def last_interaction_at(*, account, openid: str) -> datetime | None:
    """The follower's newest message, menu click, follow or scan: the start of the 48-hour window."""
    return Follower.objects.filter(account=account, openid=openid).values_list("last_interaction_at", flat=True).first()


def reply_window(*, account, openid: str, now: datetime | None = None) -> ReplyWindow:
    return ReplyWindow(last_interaction_at(account=account, openid=openid), now or timezone.now())


def reply_windows(*, conversations, now: datetime | None = None) -> dict[int, ReplyWindow]:
    """The window of each conversation of ``conversations_for_accounts`` (annotated), by conversation id."""
    now = now or timezone.now()
    return {c.pk: ReplyWindow(c.follower_last_interaction_at, now) for c in conversations}


# --- Conversations -----------------------------------------------------------------------------------


def conversations_for_accounts(*, accounts, search: str = "", unread_only: bool = False) -> QuerySet[Conversation]:
    followers = Follower.objects.filter(account_id=OuterRef("account_id"), openid=OuterRef("openid"))
    qs = (
        Conversation.objects.filter(account__in=accounts)
        .select_related("account")
        .annotate(follower_last_interaction_at=Subquery(followers.values("last_interaction_at")[:1]))
        .order_by("-last_message_at", "-id")
    )
    if search:
        remarked = Follower.objects.filter(account__in=accounts, remark__icontains=search).values("openid")
        qs = qs.filter(Q(openid__icontains=search) | Q(openid__in=remarked))
    if unread_only:
        qs = qs.filter(unread_count__gt=0)
    return qs


def conversation_for_follower(*, account, openid: str) -> Conversation | None:
    return Conversation.objects.filter(account=account, openid=openid).first()


def kf_accounts_for_reply(*, account) -> QuerySet[KfAccount]:
    return KfAccount.objects.filter(account=account, exists_at_wechat=True, delete_requested=False).order_by("kf_account")


def follower_remarks(*, conversations) -> dict[tuple[int, str], str]:
    """The remark (备注名) of each conversation's follower that has one, by (account id, OpenID)."""
    rows = (
        Follower.objects.filter(
            account_id__in={c.account_id for c in conversations}, openid__in=[c.openid for c in conversations]
        )
        .exclude(remark="")
        .values_list("account_id", "openid", "remark")
    )
    return {(account_id, openid): remark for account_id, openid, remark in rows}


def follower_label(*, account, openid: str) -> str:
    remark = Follower.objects.filter(account=account, openid=openid).values_list("remark", flat=True).first()
    return remark or openid


# --- A follower's thread -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PassiveReply:
    """What the callback answered to an inbound message (keyword, welcome, menu or default reply)."""

    message: OutgoingMessage | None
    text: str
    kind: str


@dataclass(frozen=True)
class SentItem:
    """A template message or a mass send that went to the follower, as their thread shows it."""

    kind: str  # SENT_TEMPLATE or SENT_MASS
    pk: int  # the TemplateMessage, or the MassMessage the batch belongs to
    title: str
    text: str
    status: str
    status_label: str
    errcode: int | None = None
    error: str = ""


SENT_TEMPLATE = "template"
SENT_MASS = "mass"


@dataclass(frozen=True)
class ThreadItem:
    at: datetime
    inbound: InboundMessage | None = None
    outbound: OutboundMessage | None = None
    reply: PassiveReply | None = None
    sent: SentItem | None = None


def _passive_reply(reply_xml: str) -> PassiveReply | None:
    if not reply_xml or reply_xml == "success":
        return None
    try:
        message = reply_from_xml(reply_xml)
    except (CallbackError, UnsupportedMessage):
        return PassiveReply(None, reply_xml[:200], "?")
    if isinstance(message, TransferCustomerService):
        return PassiveReply(message, message.kf_account or str(_("any agent")), message.kind)
    return PassiveReply(message, summary(message), message.kind)


def _template_item(message: TemplateMessage) -> ThreadItem:
    sent = SentItem(
        kind=SENT_TEMPLATE,
        pk=message.pk,
        title=message.push.name
        if message.push_id
        else (message.template.title if message.template else message.wechat_template_id),
        text=template_message_text(message),
        status=message.status,
        status_label=message.get_status_display(),
        errcode=message.errcode,
        error=message.error,
    )
    return ThreadItem(at=message.sent_at or message.created_at, sent=sent)


def _mass_item(batch: MassBatch) -> ThreadItem:
    message = batch.message
    sent = SentItem(
        kind=SENT_MASS,
        pk=message.pk,
        title=message.title,
        text=summary(mass_message_value(message)),
        status=batch.status,
        status_label=batch.get_status_display(),
        errcode=batch.errcode,
        error=batch.errmsg,
    )
    return ThreadItem(at=batch.submitted_at or batch.first_called_at or message.created_at, sent=sent)


def follower_thread(*, account, openid: str, limit: int = 200, events: str = "thread") -> list[ThreadItem]:
    """Everything the follower and the account exchanged, oldest first: the follower's messages and events, the
    passive reply each got (keyword, welcome, menu or default reply), customer-service messages with their status,
    and the template messages and mass sends that went to them, with their kind and status.

    ``events="thread"`` keeps the follower's own events (follows, menu clicks, scans); ``"all"`` shows every event
    of theirs, location reports included. WeChat's system events (send results) are never part of a thread.
    At most the newest ``limit`` rows of each kind are read; the newest ``limit`` items are returned.
    """
    inbound = InboundMessage.objects.filter(from_followers_filter(), account=account, openid=openid)
    inbound = inbound.select_related("matched_rule", "received_media")
    if events == "thread":
        inbound = inbound.annotate(event_lower=Lower("event")).filter(thread_filter())
    items = [
        ThreadItem(at=m.create_time, inbound=m, reply=_passive_reply(m.reply_xml))
        for m in inbound.order_by("-create_time", "-id")[:limit]
    ]
    outbound = OutboundMessage.objects.filter(account=account, openid=openid).select_related("operator")[:limit]
    items += [ThreadItem(at=m.created_at, outbound=m) for m in outbound]
    items += [_template_item(m) for m in template_messages_to_follower(account=account, openid=openid, limit=limit)]
    items += [_mass_item(b) for b in mass_batches_to_follower(account=account, openid=openid, limit=limit)]
    items.sort(key=lambda item: (item.at, item.inbound is None))
    return items[-limit:]


def conversations_last_media(*, conversations) -> dict:
    """(account_id, openid) → the file of the follower's last message, for conversations whose last message was one."""
    wanted = {(c.account_id, c.openid): c.last_message_at for c in conversations if c.last_from_follower}
    if not wanted:
        return {}
    rows = (
        InboundMessage.objects.filter(
            account_id__in={a for a, _ in wanted}, openid__in={o for _, o in wanted}, received_media__isnull=False
        )
        .select_related("received_media")
        .order_by("-create_time", "-id")
    )
    found: dict = {}
    for inbound in rows[: len(wanted) * 5]:
        key = (inbound.account_id, inbound.openid)
        if key in wanted and key not in found and inbound.create_time >= wanted[key]:
            found[key] = inbound.received_media
    return found
