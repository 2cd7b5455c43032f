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
    # A hit takes no lock: with many callbacks in flight, one lock per request queued them behind each other. The
    # dictionary's get and move_to_end are each atomic; the entry may be evicted between the two.
    hit = _callback_cache.get(appid)
    if hit and hit[0] > now:
        try:
            _callback_cache.move_to_end(appid)
        except KeyError:
            pass
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
