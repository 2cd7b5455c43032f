"""Mass sends: audience, quota and progress reads."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from django.db import connection
from django.db.models import Case, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from followers import selectors as followers_selectors
from followers.models import Follower
from wechat.api.mass import MassTarget, ToAll, ToOpenids, ToTag
from wechat.outgoing import Images, MpNews, OutgoingMessage, Text, Video, Voice, WxCard

from .models import MassBatch, MassMessage

PER_FOLLOWER_MONTHLY = 4  # service accounts: mass messages a follower receives per month (API.md §8)


SUBSCRIPTION_DAILY = 1  # subscription accounts: successful mass sends per day


def _followers(account):
    return followers_selectors.audience(account=account)


def _date(value) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _filtered_followers(message: MassMessage):
    spec = message.follower_filter or {}
    return followers_selectors.audience(
        account=message.account,
        tag=spec.get("tag") or None,
        subscribe_scene=spec.get("subscribe_scene") or "",
        subscribed_after=_date(spec.get("subscribed_after")),
        subscribed_before=_date(spec.get("subscribed_before")),
    )


def audience_openids(message: MassMessage) -> list[str] | None:
    """The OpenIDs for a list or filter audience; None for all / tag (WeChat resolves those)."""
    if message.audience == MassMessage.Audience.OPENIDS:
        return list(dict.fromkeys(message.openids or []))
    if message.audience == MassMessage.Audience.FILTER:
        return list(followers_selectors.audience_openids(queryset=_filtered_followers(message)))
    return None


def audience_size(message: MassMessage) -> int:
    """Recipients as far as our records know (WeChat's TotalCount is the final word for all / tag)."""
    if message.audience == MassMessage.Audience.ALL:
        return _followers(message.account).count()
    if message.audience == MassMessage.Audience.TAG:
        if message.tag is None:
            return 0
        local = _followers(message.account).filter(tags=message.tag).count()
        return local or message.tag.follower_count
    if message.audience == MassMessage.Audience.FILTER:
        return _filtered_followers(message).count()
    return len(audience_openids(message) or [])


def _month_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _day_start(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def mass_quota_for(*, message: MassMessage, now: datetime | None = None) -> dict:
    """What the confirmation page shows: audience size and what is left of the account's quota."""
    now = now or timezone.now()
    account = message.account
    size = audience_size(message)
    # A batch with an unknown outcome may have reached its followers: it counts, from its first call.
    ok_batches = (
        MassBatch.objects.filter(message__account=account, status__in=(*MassBatch.OK, MassBatch.Status.UNKNOWN))
        .exclude(message=message)
        .alias(sent_at=Coalesce("submitted_at", "first_called_at"))
    )
    info = {"account_type": account.account_type, "audience_size": size, "verified": account.verified}
    if account.account_type == account.AccountType.SUBSCRIPTION:
        sent_today = ok_batches.filter(sent_at__gte=_day_start(now)).values("message").distinct().count()
        info.update(
            sends_today=sent_today, daily_limit=SUBSCRIPTION_DAILY, remaining_today=max(0, SUBSCRIPTION_DAILY - sent_today)
        )
        return info
    at_limit = _followers_at_monthly_limit(message, ok_batches.filter(sent_at__gte=_month_start(now)))
    info.update(monthly_limit=PER_FOLLOWER_MONTHLY, at_limit=at_limit, will_receive=max(0, size - at_limit))
    return info


def _followers_at_monthly_limit(message: MassMessage, month_batches) -> int:
    """How many of the audience already got 4 mass messages this month, by our own records.

    All-follower and tag sends count for the followers who are (now) subscribed / in the tag. For a follower
    audience the count is one SQL query; only an operator's OpenID list is counted here.
    """
    sends_all = month_batches.filter(message__audience=MassMessage.Audience.ALL).count()
    per_tag = Counter(month_batches.filter(tag_wechat_id__isnull=False).values_list("tag_wechat_id", flat=True))
    per_openid: Counter = Counter()
    for ids in month_batches.exclude(openids=[]).values_list("openids", flat=True).iterator():
        per_openid.update(ids)
    if message.audience == MassMessage.Audience.OPENIDS:
        return _openids_at_monthly_limit(message, audience_openids(message) or [], sends_all, per_tag, per_openid)
    if message.audience == MassMessage.Audience.TAG:
        followers = _followers(message.account).filter(tags=message.tag) if message.tag else _followers(message.account).none()
    elif message.audience == MassMessage.Audience.FILTER:
        followers = _filtered_followers(message)
    else:
        followers = _followers(message.account)
    if sends_all >= PER_FOLLOWER_MONTHLY:
        return followers.count()
    if not per_tag and not per_openid:
        return 0
    received = Value(sends_all)
    if per_tag:
        received = received + Coalesce(Subquery(_tag_sends(per_tag)), Value(0))
    if per_openid:
        by_count: dict[int, list[str]] = {}
        for openid, n in per_openid.items():
            by_count.setdefault(n, []).append(openid)
        received = received + Case(*(When(openid__in=ids, then=Value(n)) for n, ids in by_count.items()), default=Value(0))
    return followers.alias(received=received).filter(received__gte=PER_FOLLOWER_MONTHLY).count()


def _tag_sends(per_tag: Counter):
    """Per follower (OuterRef "pk"): the tag sends of the month that reached their tags."""

    through = Follower.tags.through
    sends = Case(*(When(tag__wechat_id=w, then=Value(n)) for w, n in per_tag.items()), default=Value(0))
    return (
        through.objects.filter(follower_id=OuterRef("pk"), tag__wechat_id__in=list(per_tag))
        .values("follower_id")
        .annotate(total=Sum(sends))
        .values("total")
    )


def _openids_at_monthly_limit(message: MassMessage, audience: list[str], sends_all: int, per_tag, per_openid) -> int:

    if sends_all >= PER_FOLLOWER_MONTHLY:
        return len(audience)
    tags_of: dict[str, list[int]] = {}
    if per_tag:
        rows = Follower.objects.filter(account=message.account, openid__in=audience, tags__wechat_id__in=list(per_tag))
        for openid, wechat_id in rows.values_list("openid", "tags__wechat_id").iterator():
            tags_of.setdefault(openid, []).append(wechat_id)
    count = 0
    for openid in audience:
        received = sends_all + per_openid[openid] + sum(per_tag[t] for t in tags_of.get(openid, ()))
        if received >= PER_FOLLOWER_MONTHLY:
            count += 1
    return count


def mass_message_totals(message: MassMessage) -> dict:
    """Figures over all batches (job-finish counts are None until WeChat reports them)."""
    agg = message.batches.aggregate(
        total=Sum("total_count"),
        filtered=Sum("filter_count"),
        sent=Sum("sent_count"),
        errors=Sum("error_count"),
        recipients=Sum("recipients"),
    )
    return {k: v for k, v in agg.items()}


def mass_message_progress(message: MassMessage) -> tuple[int, int]:
    """(batches settled, batches) while sending; (sent, filtered) once WeChat reported."""
    statuses = list(message.batches.values_list("status", flat=True))
    return sum(1 for s in statuses if s in MassBatch.SETTLED), len(statuses)


def message_value(message: MassMessage) -> OutgoingMessage:
    """What a mass message sends, as the one outgoing-message value (``wechat.outgoing``)."""
    t = message.msgtype
    if t == MassMessage.MsgType.TEXT:
        return Text(message.content)
    if t == MassMessage.MsgType.IMAGE:
        return Images(
            tuple(message.media_ids),
            recommend=message.recommend,
            need_open_comment=message.need_open_comment,
            only_fans_can_comment=message.only_fans_can_comment,
        )
    if t == MassMessage.MsgType.VOICE:
        return Voice(message.media_id)
    if t == MassMessage.MsgType.VIDEO:
        return Video(message.media_id, title=message.video_title, description=message.video_description)
    if t == MassMessage.MsgType.MPNEWS:
        return MpNews(message.media_id)
    return WxCard(message.card_id)


def batch_target(batch: MassBatch) -> MassTarget:
    """Who one batch goes to: its OpenID list, a tag, or everyone."""
    if batch.openids:
        return ToOpenids(tuple(batch.openids))
    if batch.tag_wechat_id is not None:
        return ToTag(batch.tag_wechat_id)
    return ToAll()


def mass_messages_in_flight(messages) -> QuerySet[MassMessage]:
    """The messages whose figures still change: sending, or with batches awaiting WeChat's MASSSENDJOBFINISH."""
    return messages.filter(Q(status=MassMessage.Status.SENDING) | Q(batches__status=MassBatch.Status.SUBMITTED)).distinct()


def mass_batches_to_follower(*, account, openid: str, limit: int = 200) -> list[MassBatch]:
    """The batches of mass sends that went to one follower, newest first, at most ``limit``.

    A batch whose OpenID list names them, whatever its status; a send to everyone, or to a tag they have, that WeChat
    was called with after they followed. WeChat reports no recipient list for those, so the tags are the follower's
    current ones.
    """
    follower = Follower.objects.filter(account=account, openid=openid).first()
    lists = [MassMessage.Audience.OPENIDS, MassMessage.Audience.FILTER]
    # A batch's OpenIDs are a JSON list of up to 10,000: PostgreSQL tests containment on the binary value; where the
    # database cannot (SQLite), the quoted value is matched as text and the list checked exactly below.
    exact = connection.features.supports_json_field_contains
    named = Q(openids__contains=[openid]) if exact else Q(openids__icontains=f'"{openid}"')
    named &= Q(message__audience__in=lists)
    if follower is not None and follower.subscribe_time is not None:
        tag_ids = [t for t in follower.tags.values_list("wechat_id", flat=True) if t is not None]
        broad = Q(message__audience=MassMessage.Audience.ALL) | Q(
            message__audience=MassMessage.Audience.TAG, tag_wechat_id__in=tag_ids
        )
        named |= broad & Q(first_called_at__gte=follower.subscribe_time)
    rows = MassBatch.objects.filter(named, message__account=account).select_related("message")
    if exact:
        rows = rows.defer("openids", "copyright_results", "article_urls")
    rows = rows.order_by("-first_called_at", "-id")[: limit + 50]
    found = [b for b in rows if exact or b.message.audience not in lists or openid in b.openids]
    return found[:limit]
