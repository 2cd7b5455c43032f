"""Reads of the inbound log, split by origin: what followers sent, what they did, and WeChat's system events.

Job results (TEMPLATESENDJOBFINISH, MASSSENDJOBFINISH, PUBLISHJOBFINISH) and other reports about the account arrive
through the same callback as followers' messages; counts, the message log and a follower's thread keep them apart.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet, TextChoices
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from wechat.message_kinds import FOLLOWER_EVENTS

from .models import InboundMessage

# The inbound log stores ``event`` as WeChat spelt it (``CLICK``, ``subscribe``): a filter lists both spellings.
_FOLLOWER_EVENT_SPELLINGS = sorted(FOLLOWER_EVENTS | {e.upper() for e in FOLLOWER_EVENTS})


class Origin(TextChoices):
    MESSAGE = "message", _("Follower messages")
    FOLLOWER_EVENT = "follower_event", _("Follower events (follows, menu clicks, scans)")
    SYSTEM_EVENT = "system_event", _("System events (send results, reports)")


def origin_filter(origin: str) -> Q:
    """The rows of one origin, as a query on ``InboundMessage``."""
    is_event = Q(msg_type="event")
    if origin == Origin.MESSAGE:
        return ~is_event
    if origin == Origin.FOLLOWER_EVENT:
        return is_event & Q(event__in=_FOLLOWER_EVENT_SPELLINGS)
    if origin == Origin.SYSTEM_EVENT:
        return is_event & ~Q(event__in=_FOLLOWER_EVENT_SPELLINGS)
    raise ValueError(f"unknown origin {origin!r}")


def from_followers_filter() -> Q:
    """Messages and events a follower caused; never the account's system events."""
    return origin_filter(Origin.MESSAGE) | origin_filter(Origin.FOLLOWER_EVENT)


def follower_messages(*, accounts, since: datetime | None = None) -> QuerySet[InboundMessage]:
    """What followers typed or sent (text, image, voice, video, location, link) to these accounts."""
    qs = InboundMessage.objects.filter(origin_filter(Origin.MESSAGE), account__in=accounts)
    return qs.filter(received_at__gte=since) if since is not None else qs


def follower_message_count(*, account, since: datetime) -> int:
    return follower_messages(accounts=[account], since=since).count()


def follower_messages_per_day(*, account, since: datetime) -> list[dict]:
    """``[{"day": date, "msg_type": "text", "n": 3}, …]``, oldest first, in the site's time zone."""
    return list(
        follower_messages(accounts=[account], since=since)
        .annotate(day=TruncDate("received_at"))
        .values("day", "msg_type")
        .annotate(n=Count("id"))
        .order_by("day", "msg_type")
    )


# A keyword rule answered (the "any other message" rule answers what no keyword matched).
_KEYWORD_MATCHED = Q(matched_rule__isnull=False) & ~Q(matched_rule__trigger="default")


def top_keywords(*, account, since: datetime, limit: int = 10) -> list[dict]:
    """The texts followers sent most often, with how many matched an auto-reply rule."""
    return list(
        follower_messages(accounts=[account], since=since)
        .filter(msg_type="text")
        .exclude(content="")
        .values("content")
        .annotate(n=Count("id"), matched=Count("id", filter=_KEYWORD_MATCHED))
        .order_by("-n", "content")[:limit]
    )


def unmatched_messages(*, account, since: datetime, limit: int = 10) -> QuerySet[InboundMessage]:
    """The newest follower texts no keyword matched (candidates for a new keyword rule)."""
    qs = follower_messages(accounts=[account], since=since).filter(msg_type="text").exclude(_KEYWORD_MATCHED)
    return qs.order_by("-received_at")[:limit]
