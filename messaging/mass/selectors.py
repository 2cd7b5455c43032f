"""Mass sends: audience, quota and progress reads."""

from __future__ import annotations

import json
from datetime import date, datetime

from django.db import connection
from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
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
    """How many of the audience already got 4 mass messages this month, by our own records. Counted in the database.

    A follower's sends of the month: every all-follower batch, the tag batches of the tags they are (now) in, and
    the batches whose OpenID lists name them (the JSON lists unnested and grouped per OpenID in SQL). All-follower
    and tag sends count for the followers who are (now) subscribed / in the tag.
    """
    sends_all = month_batches.filter(message__audience=MassMessage.Audience.ALL).count()
    per_tag = dict(
        month_batches.filter(tag_wechat_id__isnull=False)
        .order_by()
        .values_list("tag_wechat_id")
        .annotate(n=Count("pk"))
        .values_list("tag_wechat_id", "n")
    )
    if message.audience == MassMessage.Audience.OPENIDS:
        audience = _listed_audience(message, per_tag)
    else:
        if message.audience == MassMessage.Audience.TAG:
            followers = (
                _followers(message.account).filter(tags=message.tag) if message.tag else _followers(message.account).none()
            )
        elif message.audience == MassMessage.Audience.FILTER:
            followers = _filtered_followers(message)
        else:
            followers = _followers(message.account)
        if sends_all >= PER_FOLLOWER_MONTHLY:
            return followers.count()
        tag_sends = Coalesce(Subquery(_tag_sends(per_tag)), Value(0)) if per_tag else Value(0)
        audience = followers.order_by().values(audience_openid=F("openid"), audience_tag_sends=tag_sends).query.sql_with_params()
    listed_sql, listed_params = _list_sends_per_openid(month_batches)
    sql = (
        f"SELECT COUNT(*) FROM ({audience[0]}) a LEFT JOIN ({listed_sql}) s ON s.openid = a.audience_openid"  # noqa: S608  built from querysets, values bound
        " WHERE %s + a.audience_tag_sends + COALESCE(s.n, 0) >= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*audience[1], *listed_params, sends_all, PER_FOLLOWER_MONTHLY])
        return cursor.fetchone()[0]


# The elements of a JSON list of strings as the rows of a table function ("value" column), per database; joined
# to the table whose column it reads with CROSS JOIN LATERAL on PostgreSQL, a plain join on SQLite.
_JSON_ELEMENTS = {
    "postgresql": ("CROSS JOIN LATERAL", "jsonb_array_elements_text({list}) AS {alias}(value)"),
    "sqlite": (",", "json_each({list}) AS {alias}"),
}


def _json_elements(list_sql: str, alias: str) -> tuple[str, str]:
    try:
        join, rows = _JSON_ELEMENTS[connection.vendor]
    except KeyError:
        raise NotImplementedError(f"mass-send quotas need PostgreSQL or SQLite, not {connection.vendor}") from None
    return join, rows.format(list=list_sql, alias=alias)


def _list_sends_per_openid(month_batches) -> tuple[str, tuple]:
    """SQL of (openid, n): how many of ``month_batches``' OpenID lists name each OpenID."""
    quote = connection.ops.quote_name
    batch_ids, params = month_batches.order_by().values("pk").query.sql_with_params()
    table, openids = quote(MassBatch._meta.db_table), quote(MassBatch._meta.get_field("openids").column)
    join, elements = _json_elements(f"b.{openids}", "e")
    sql = f"SELECT e.value AS openid, COUNT(*) AS n FROM {table} b {join} {elements} WHERE b.id IN ({batch_ids}) GROUP BY e.value"  # noqa: S608  identifiers from the model, values bound
    return sql, params


def _listed_audience(message: MassMessage, per_tag: dict[int, int]) -> tuple[str, list]:
    """SQL of (audience_openid, audience_tag_sends) for an operator's OpenID list: each OpenID once, with the tag
    sends of the month that reached the tags its follower row (if any) is in."""
    _, elements = _json_elements("%s::jsonb" if connection.vendor == "postgresql" else "%s", "e")
    listed = f"SELECT DISTINCT e.value AS audience_openid FROM {elements}"  # noqa: S608  no values in the text
    params: list = [json.dumps(list(message.openids or []))]
    if not per_tag:
        return f"SELECT audience_openid, 0 AS audience_tag_sends FROM ({listed}) l", params  # noqa: S608
    sends = Case(*(When(tags__wechat_id=w, then=Value(n)) for w, n in per_tag.items()), default=Value(0))
    tagged_sql, tagged_params = (
        Follower.objects.filter(account=message.account, tags__wechat_id__in=list(per_tag))
        .order_by()
        .values("openid")
        .annotate(n=Sum(sends))
        .values("openid", "n")
        .query.sql_with_params()
    )
    sql = (
        f"SELECT l.audience_openid, COALESCE(t.n, 0) AS audience_tag_sends FROM ({listed}) l"  # noqa: S608
        f" LEFT JOIN ({tagged_sql}) t ON t.openid = l.audience_openid"
    )
    return sql, [*params, *tagged_params]


def _tag_sends(per_tag: dict[int, int]):
    """Per follower (OuterRef "pk"): the tag sends of the month that reached their tags."""

    through = Follower.tags.through
    sends = Case(*(When(tag__wechat_id=w, then=Value(n)) for w, n in per_tag.items()), default=Value(0))
    return (
        through.objects.filter(follower_id=OuterRef("pk"), tag__wechat_id__in=list(per_tag))
        .values("follower_id")
        .annotate(total=Sum(sends))
        .values("total")
    )


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
    counts = message.batches.aggregate(settled=Count("pk", filter=Q(status__in=MassBatch.SETTLED)), batches=Count("pk"))
    return counts["settled"], counts["batches"]


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
