from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from accounts.selectors import accounts_for_user
from wechat.api import datacube

from .models import SUBSCRIBE_SCENES, Follower, FollowerDailyStat, Tag


def tags_for_user(user) -> QuerySet:
    return Tag.objects.filter(account__in=accounts_for_user(user))


def tags_assignable(*, account) -> QuerySet:
    """Tags followers can be added to or removed from: on WeChat already, and not a system tag."""
    return Tag.objects.filter(account=account, wechat_id__isnull=False).exclude(wechat_id__in=Tag.RESERVED_IDS)


FOLLOWER_CSV_HEADER = [
    "appid",
    "openid",
    "unionid",
    "remark",
    "subscribed",
    "subscribe_time",
    "subscribe_scene",
    "qr_scene",
    "language",
    "tags",
    "blacklisted",
    "latitude",
    "longitude",
    "last_interaction_at",
]
# Columns holding a time: written in the operator's time zone, which their header names.
FOLLOWER_CSV_TIMES = {"subscribe_time", "last_interaction_at"}
# Headers in the operator's language; in English they stay the column keys scripts already read.
FOLLOWER_CSV_LABELS = {
    "appid": pgettext_lazy("follower CSV column", "appid"),
    "openid": pgettext_lazy("follower CSV column", "openid"),
    "unionid": pgettext_lazy("follower CSV column", "unionid"),
    "remark": pgettext_lazy("follower CSV column", "remark"),
    "subscribed": pgettext_lazy("follower CSV column", "subscribed"),
    "subscribe_time": pgettext_lazy("follower CSV column", "subscribe_time"),
    "subscribe_scene": pgettext_lazy("follower CSV column", "subscribe_scene"),
    "qr_scene": pgettext_lazy("follower CSV column", "qr_scene"),
    "language": pgettext_lazy("follower CSV column", "language"),
    "tags": pgettext_lazy("follower CSV column", "tags"),
    "blacklisted": pgettext_lazy("follower CSV column", "blacklisted"),
    "latitude": pgettext_lazy("follower CSV column", "latitude"),
    "longitude": pgettext_lazy("follower CSV column", "longitude"),
    "last_interaction_at": pgettext_lazy("follower CSV column", "last_interaction_at"),
}


def follower_csv_header(*, zone) -> list[str]:
    return [
        f"{FOLLOWER_CSV_LABELS[key]} ({zone.key})" if key in FOLLOWER_CSV_TIMES else str(FOLLOWER_CSV_LABELS[key])
        for key in FOLLOWER_CSV_HEADER
    ]


def follower_csv_rows(*, queryset, chunk_size: int = 2000) -> Iterator[list]:
    """The CSV header, then one row per follower: plain values read in chunks, tags looked up per chunk.

    Headers, scene names and times follow the language and time zone active now (the operator's), not those of
    whoever iterates the stream later.
    """
    zone = timezone.get_current_timezone()
    header = follower_csv_header(zone=zone)
    scenes = {key: str(label) for key, label in SUBSCRIBE_SCENES.items()}
    return _follower_csv_stream(queryset=queryset, chunk_size=chunk_size, header=header, zone=zone, scenes=scenes)


def _follower_csv_stream(*, queryset, chunk_size, header, zone, scenes):
    yield header
    tag_names = dict(Tag.objects.values_list("id", "name"))
    through = Follower.tags.through
    columns = [
        "id",
        "account__appid",
        "openid",
        "unionid",
        "remark",
        "subscribed",
        "subscribe_time",
        "subscribe_scene",
        "qr_scene",
        "language",
        "blacklisted",
        "latitude",
        "longitude",
        "last_interaction_at",
    ]
    chunk: list[tuple] = []
    for row in queryset.values_list(*columns).iterator(chunk_size=chunk_size):
        chunk.append(row)
        if len(chunk) >= chunk_size:
            yield from _csv_chunk(chunk, through, tag_names, zone, scenes)
            chunk = []
    yield from _csv_chunk(chunk, through, tag_names, zone, scenes)


def _csv_time(value, zone) -> str:
    return timezone.localtime(value, zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _csv_chunk(chunk, through, tag_names, zone, scenes):
    tags: dict[int, list[str]] = {}
    pairs = through.objects.filter(follower_id__in=[row[0] for row in chunk]).values_list("follower_id", "tag_id")
    for follower_id, tag_id in pairs:
        tags.setdefault(follower_id, []).append(tag_names.get(tag_id, str(tag_id)))
    for pk, appid, openid, unionid, remark, subscribed, subscribed_at, scene, qr, lang, black, lat, lng, last in chunk:
        yield [
            appid,
            openid,
            unionid,
            remark,
            int(subscribed),
            _csv_time(subscribed_at, zone),
            scenes.get(scene, scene),
            qr,
            lang,
            "|".join(sorted(tags.get(pk, []))),
            int(black),
            "" if lat is None else lat,
            "" if lng is None else lng,
            _csv_time(last, zone),
        ]


def audience(
    *, account, tag=None, subscribe_scene: str = "", subscribed_after=None, subscribed_before=None
) -> QuerySet[Follower]:
    """Who a mass send or a template push reaches: subscribed and not blacklisted (the one rule), narrowed by
    a tag (instance or pk), the subscribe scene, and the subscription dates (inclusive)."""
    followers = Follower.objects.filter(account=account, subscribed=True, blacklisted=False)
    if tag is not None:
        followers = followers.filter(tags=tag)
    if subscribe_scene:
        followers = followers.filter(subscribe_scene=subscribe_scene)
    if subscribed_after:
        followers = followers.filter(subscribe_time__date__gte=subscribed_after)
    if subscribed_before:
        followers = followers.filter(subscribe_time__date__lte=subscribed_before)
    return followers


def audience_openids(*, queryset: QuerySet[Follower], page: int = 5000) -> Iterator[str]:
    """The OpenIDs of ``queryset`` in pk order, in keyset pages: each page is a short indexed query,
    whatever the table's size."""
    last = 0
    while rows := list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", "openid")[:page]):
        last = rows[-1][0]
        yield from (openid for _pk, openid in rows)


# Follower growth for the dashboard: WeChat's data cube where the account has figures, else our own records.


@dataclass(frozen=True)
class FollowerGrowth:
    source: str  # "datacube" (WeChat's figures) or "local" (our follower records)
    days: list[date]
    new: list[int]
    cancel: list[int]
    net: list[int]
    cumulate: list[int]


def _per_day(qs, field: str, begin: date) -> dict[date, int]:
    rows = (
        qs.filter(**{f"{field}__date__gte": begin})
        .annotate(day=TruncDate(field, tzinfo=datacube.STATS_TIMEZONE))
        .values("day")
        .annotate(n=Count("id"))
    )
    return {row["day"]: row["n"] for row in rows}


def follower_growth(*, account, days: int = 30) -> FollowerGrowth:
    """New, unfollowed, net and cumulative followers per day over the last ``days`` days, oldest first."""
    today = datacube.latest_day() + timedelta(days=1)
    stats = {s.day: s for s in FollowerDailyStat.objects.filter(account=account, day__gte=today - timedelta(days=days))}
    if stats:
        end = datacube.latest_day()
        span = [end - timedelta(days=days - 1 - i) for i in range(days)]
        new = [stats[d].new_user if d in stats else 0 for d in span]
        cancel = [stats[d].cancel_user if d in stats else 0 for d in span]
        cumulate, last = [], None
        for d in span:
            last = stats[d].cumulate_user if d in stats and stats[d].cumulate_user is not None else last
            cumulate.append(last or 0)
        return FollowerGrowth("datacube", span, new, cancel, [a - b for a, b in zip(new, cancel, strict=True)], cumulate)
    span = [today - timedelta(days=days - 1 - i) for i in range(days)]
    followers = Follower.objects.filter(account=account)
    came = _per_day(followers.exclude(subscribe_time=None), "subscribe_time", span[0])
    left = _per_day(followers.exclude(unsubscribed_at=None), "unsubscribed_at", span[0])
    new = [came.get(d, 0) for d in span]
    cancel = [left.get(d, 0) for d in span]
    net = [a - b for a, b in zip(new, cancel, strict=True)]
    # Walk back from today's total.
    total = followers.filter(subscribed=True).count()
    cumulate = []
    for change in reversed(net):
        cumulate.append(total)
        total -= change
    return FollowerGrowth("local", span, new, cancel, net, cumulate[::-1])
