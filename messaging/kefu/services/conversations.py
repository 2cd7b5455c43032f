"""Customer service: conversations (one per follower) and their unread counts."""

from __future__ import annotations

import itertools
from datetime import datetime

from django.db import transaction
from django.db.models import F, Max
from django.db.models.functions import Lower
from django.utils import timezone

from messaging.inbound.models import InboundMessage
from wechat.outgoing import summary

from ..models import Conversation, OutboundMessage
from ..selectors import is_thread_item, thread_filter


def _inbound_preview(inbound: InboundMessage) -> str:
    if inbound.msg_type == "text":
        return inbound.content
    if inbound.msg_type == "event":
        key = f": {inbound.event_key}" if inbound.event_key else ""
        return f"[{inbound.event}{key}]"
    return f"[{inbound.msg_type}] {inbound.content}".strip()


def conversation_record_inbound(*, inbound: InboundMessage) -> Conversation | None:
    """Put a follower's message or event in their conversation and count it unread.

    The 48-hour window is not moved here: its one fact, Follower.last_interaction_at, is moved by the followers app.
    """
    if not inbound.openid or not is_thread_item(inbound):
        return None
    at = inbound.create_time
    unread = 1 if inbound.msg_type != "event" else 0
    conversation, created = Conversation.objects.get_or_create(
        account_id=inbound.account_id,
        openid=inbound.openid,
        defaults={
            "last_message_at": at,
            "last_preview": _inbound_preview(inbound)[:120],
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
    return conversation


def conversations_backfill(*, account, batch_size: int = 2000) -> int:
    """Create the conversations of followers whose messages predate the inbox (read, without preview). Returns how many."""
    existing = set(Conversation.objects.filter(account=account).values_list("openid", flat=True))
    threads = (
        InboundMessage.objects.filter(account=account)
        .annotate(event_lower=Lower("event"))
        .filter(thread_filter())
        .exclude(openid="")
        .values("openid")
        .annotate(last=Max("create_time"))
        .order_by()
    )
    missing = (
        Conversation(account=account, openid=t["openid"], last_message_at=t["last"])
        for t in threads.iterator()
        if t["openid"] not in existing
    )
    created = 0
    while batch := list(itertools.islice(missing, batch_size)):
        Conversation.objects.bulk_create(batch, ignore_conflicts=True)
        created += len(batch)
    return created


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
    preview = summary(outbound.payload)[:120]
    conversation, created = Conversation.objects.get_or_create(
        account_id=outbound.account_id,
        openid=outbound.openid,
        defaults={"last_message_at": outbound.created_at, "last_preview": preview, "last_from_follower": False},
    )
    if not created:
        Conversation.objects.filter(pk=conversation.pk, last_message_at__lte=outbound.created_at).update(
            last_message_at=outbound.created_at, last_preview=preview, last_from_follower=False
        )
