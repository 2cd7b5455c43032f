from __future__ import annotations

import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.db.models import QuerySet

from .models import OfficialAccount

# The callback looks its account up on every request; a per-process cache keeps that off the database.
# The appid comes from the URL, so the cache is an LRU with a bound: random appids evict each other, not
# memory. Saves in this process clear it at once (signals.py); other processes see changes within the TTL.
_callback_cache: OrderedDict[str, tuple[float, OfficialAccount | None]] = OrderedDict()
_callback_cache_lock = threading.Lock()


def account_for_callback(appid: str) -> OfficialAccount | None:
    now = time.monotonic()
    with _callback_cache_lock:
        hit = _callback_cache.get(appid)
        if hit and hit[0] > now:
            _callback_cache.move_to_end(appid)
            return hit[1]
    account = _account_by_appid(appid)
    ttl = settings.WECHAT_CALLBACK_ACCOUNT_CACHE_SECONDS if account else settings.WECHAT_CALLBACK_ACCOUNT_MISS_SECONDS
    if ttl > 0:
        with _callback_cache_lock:
            _callback_cache[appid] = (now + ttl, account)
            _callback_cache.move_to_end(appid)
            while len(_callback_cache) > settings.WECHAT_CALLBACK_ACCOUNT_CACHE_SIZE:
                _callback_cache.popitem(last=False)
    return account


def _account_by_appid(appid: str) -> OfficialAccount | None:
    return OfficialAccount.objects.filter(appid=appid).first()


def callback_cache_size() -> int:
    return len(_callback_cache)


def callback_cache_clear() -> None:
    with _callback_cache_lock:
        _callback_cache.clear()


def accounts_for_user(user) -> QuerySet[OfficialAccount]:
    """The accounts a user (an operator, or a service calling the API) may see and manage."""
    if not (user and user.is_authenticated and user.is_active):
        return OfficialAccount.objects.none()
    if user.is_superuser:
        return OfficialAccount.objects.all()
    return OfficialAccount.objects.filter(operators=user)


def tags_for_user(user) -> QuerySet:
    from followers.models import Tag

    return Tag.objects.filter(account__in=accounts_for_user(user))


def tags_assignable(*, account) -> QuerySet:
    """Tags followers can be added to or removed from: on WeChat already, and not a system tag."""
    from followers.models import Tag

    return Tag.objects.filter(account=account, wechat_id__isnull=False).exclude(wechat_id__in=Tag.RESERVED_IDS)


def follower_thread(*, follower, limit: int = 50) -> list:
    """The follower's latest inbound messages and events, oldest first."""
    from messaging.models import InboundMessage

    latest = InboundMessage.objects.filter(account_id=follower.account_id, openid=follower.openid).order_by("-received_at", "-id")
    return list(reversed(latest[:limit]))


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


def follower_csv_rows(*, queryset, chunk_size: int = 2000):
    """The CSV header, then one row per follower: plain values read in chunks, tags looked up per chunk."""
    from followers.models import Follower, Tag

    yield FOLLOWER_CSV_HEADER
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
            yield from _csv_chunk(chunk, through, tag_names)
            chunk = []
    yield from _csv_chunk(chunk, through, tag_names)


def _csv_chunk(chunk, through, tag_names):
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
            subscribed_at.isoformat() if subscribed_at else "",
            scene,
            qr,
            lang,
            "|".join(sorted(tags.get(pk, []))),
            int(black),
            "" if lat is None else lat,
            "" if lng is None else lng,
            last.isoformat() if last else "",
        ]
