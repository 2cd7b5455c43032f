"""The central access_token and jsapi_ticket store (DESIGN §3).

The database row is the source of truth. A reader takes the stored value while it has more than
``WECHAT_TOKEN_MIN_REMAINING`` seconds left; otherwise it refreshes under a row lock and re-checks
after taking the lock, so many concurrent readers across an expiry cause one call to WeChat.
A token that WeChat rejects is invalidated by compare-and-set on its exact value, never overwritten blindly.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .errors import WeChatError
from .models import AccessToken

logger = logging.getLogger(__name__)
Kind = AccessToken.Kind


def access_token_get(*, account) -> str:
    return _get(account, Kind.ACCESS_TOKEN)


def jsapi_ticket_get(*, account) -> str:
    return _get(account, Kind.JSAPI_TICKET)


def access_token_refresh(*, account, force: bool = False, min_remaining: int | None = None) -> str:
    """Refresh through the row lock. ``force`` fetches a new value even if the stored one is fresh."""
    return _refresh(account, Kind.ACCESS_TOKEN, force=force, min_remaining=min_remaining)


def access_token_invalidate(*, account, value: str) -> bool:
    """Mark ``value`` expired if it is still the stored token. Returns whether it was."""
    _forget(account.pk, Kind.ACCESS_TOKEN)
    expired = timezone.now() - timedelta(seconds=1)
    changed = AccessToken.objects.filter(account=account, kind=Kind.ACCESS_TOKEN, value=value).update(expires_at=expired)
    return bool(changed)


def access_token_info(*, account) -> AccessToken:
    """The stored row, refreshed first if it is due."""
    access_token_get(account=account)
    return AccessToken.objects.get(account=account, kind=Kind.ACCESS_TOKEN)


# This process's last reads: (account id, kind) -> (value, expires_at, trusted until [monotonic]).
# It only saves reads of the row; every refresh and invalidation still goes through the database.
_recent: dict[tuple[int, str], tuple[str, datetime, float]] = {}


def _remember(account_id: int, kind: str, value: str, expires_at: datetime) -> None:
    ttl = settings.WECHAT_TOKEN_LOCAL_CACHE_SECONDS
    if ttl > 0:
        _recent[(account_id, kind)] = (value, expires_at, time.monotonic() + ttl)


def _forget(account_id: int, kind: str) -> None:
    _recent.pop((account_id, kind), None)


def local_cache_clear() -> None:
    _recent.clear()


def _get(account, kind) -> str:
    hit = _recent.get((account.pk, kind))
    if hit and hit[2] > time.monotonic() and (hit[1] - timezone.now()).total_seconds() > settings.WECHAT_TOKEN_MIN_REMAINING:
        return hit[0]
    row = AccessToken.objects.filter(account=account, kind=kind).only("value", "expires_at").first()
    if row and row.seconds_left() > settings.WECHAT_TOKEN_MIN_REMAINING:
        _remember(account.pk, kind, row.value, row.expires_at)
        return row.value
    return _refresh(account, kind)


def _refresh(account, kind, *, force: bool = False, min_remaining: int | None = None) -> str:
    if min_remaining is None:
        min_remaining = settings.WECHAT_TOKEN_MIN_REMAINING
    AccessToken.objects.get_or_create(account=account, kind=kind)
    error = None
    with transaction.atomic():
        row = AccessToken.objects.select_for_update().get(account=account, kind=kind)
        if not force and row.seconds_left() > min_remaining:
            _remember(account.pk, kind, row.value, row.expires_at)
            return row.value  # another reader refreshed it while this one waited for the lock
        try:
            value, expires_in = _fetch(account, kind, force=force)
        except WeChatError as exc:
            row.last_error = exc.display[:255]
            row.save(update_fields=["last_error"])
            error = exc
        else:
            now = timezone.now()
            row.value = value
            row.expires_at = now + timedelta(seconds=int(expires_in))
            row.refreshed_at = now
            row.refresh_count += 1
            row.last_error = ""
            row.save()
            _remember(account.pk, kind, value, row.expires_at)
            logger.info("wechat.token_refreshed", extra={"appid": account.appid, "kind": kind, "expires_in": expires_in})
            return value
    raise error


def _fetch(account, kind, *, force: bool) -> tuple[str, int]:
    from .gateway import client_for

    client = client_for(account)
    if kind == Kind.JSAPI_TICKET:
        result = client.fetch_jsapi_ticket()
        return result["ticket"], result.get("expires_in", 7200)
    if account.use_stable_token:
        result = client.fetch_stable_token(secret=account.app_secret, force_refresh=force)
    else:
        result = client.fetch_token(secret=account.app_secret)
    return result["access_token"], result.get("expires_in", 7200)


def tokens_due(*, within: int) -> list[AccessToken]:
    horizon = timezone.now() + timedelta(seconds=within)
    return list(AccessToken.objects.filter(expires_at__lt=horizon).select_related("account"))


def tokens_refresh_due() -> int:
    """Beat: refresh every stored credential that expires within WECHAT_TOKEN_REFRESH_AHEAD."""
    ahead = settings.WECHAT_TOKEN_REFRESH_AHEAD
    refreshed = 0
    for row in tokens_due(within=ahead):
        try:
            _refresh(row.account, row.kind, min_remaining=ahead)
            refreshed += 1
        except WeChatError as exc:
            logger.warning("wechat.token_refresh_failed", extra={"appid": row.account.appid, "errcode": exc.errcode})
    return refreshed
