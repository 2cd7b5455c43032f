"""The central access_token and jsapi_ticket store (DESIGN §3).

The database row is the source of truth. A reader takes the stored value while it has more than
``WECHAT_TOKEN_MIN_REMAINING`` seconds left; otherwise it refreshes under a row lock and re-checks
after taking the lock, so many concurrent readers across an expiry cause one call to WeChat.
A failed refresh is stored on the row with a backoff (``WECHAT_TOKEN_REFRESH_BACKOFF_SECONDS``, doubling per
failure in a row): until then no process calls WeChat for it; readers keep a value that is still valid or fail
fast with the stored error.
A token that WeChat rejects is invalidated by compare-and-set on its exact value, never overwritten blindly;
if ``stable_token`` hands the rejected value back, it is force-refreshed once.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import http
from .api import basic
from .api.endpoints import Endpoint
from .errors import WeChatError, WeChatRefreshBackoff
from .models import AccessToken
from .retry import TOKEN_REFRESH

logger = logging.getLogger(__name__)
Kind = AccessToken.Kind

# WeChat refuses a stable_token force_refresh within 30 s of the previous one (API.md §3).
FORCE_REFRESH_MIN_INTERVAL = 30


def access_token_get(*, account) -> str:
    return _get(account, Kind.ACCESS_TOKEN)


def jsapi_ticket_get(*, account) -> str:
    return _get(account, Kind.JSAPI_TICKET)


def access_token_refresh(*, account, force: bool = False, min_remaining: int | None = None) -> str:
    """Refresh through the row lock. ``force`` fetches a new value even if the stored one is fresh
    (an operator's explicit request: it is not held back by the failure backoff)."""
    return _refresh(account, Kind.ACCESS_TOKEN, force=force, min_remaining=min_remaining)


def access_token_invalidate(*, account, value: str) -> bool:
    """Mark ``value`` expired if it is still the stored token. Returns whether it was."""
    _forget(account.pk, Kind.ACCESS_TOKEN)
    expired = timezone.now() - timedelta(seconds=1)
    changed = AccessToken.objects.filter(account=account, kind=Kind.ACCESS_TOKEN, value=value).update(expires_at=expired)
    return bool(changed)


def access_token_reject(*, account, value: str) -> str | None:
    """WeChat refused ``value`` (40001/40014/42001): the token to retry the call with once, or None if there is none.

    Under the row lock: if another caller already replaced ``value``, its replacement is returned. Otherwise
    ``value`` is invalidated and refreshed; when ``stable_token`` hands the same value back, one
    ``force_refresh`` follows (if WeChat refuses it, the value WeChat called valid is kept and tried once).
    Within 30 s of a force_refresh attempt, WeChat would refuse another one and hands back the same value,
    so nothing is called: None, and the rejection surfaces.
    """
    kind = Kind.ACCESS_TOKEN
    _forget(account.pk, kind)
    AccessToken.objects.get_or_create(account=account, kind=kind)
    with transaction.atomic():
        row = AccessToken.objects.select_for_update().get(account=account, kind=kind)
        now = timezone.now()
        if row.value == value:
            if row.forced_at and (now - row.forced_at).total_seconds() < FORCE_REFRESH_MIN_INTERVAL:
                return None
            row.expires_at = now - timedelta(seconds=1)
            row.save(update_fields=["expires_at"])
        elif row.seconds_left(now) > 0:
            return row.value  # already replaced by another caller
        if row.backing_off(now):
            error = _backoff_error(row)
        else:
            try:
                fresh, expires_in = _fetch(account, kind, force=False)
            except WeChatError as exc:
                _record_failure(account, row, exc)
                error = exc
            else:
                if fresh == value and account.use_stable_token:
                    fresh, expires_in = _force_refresh_once(account, row, fresh, expires_in)
                _record_success(account, row, fresh, expires_in)
                return fresh
    raise error


def _force_refresh_once(account, row: AccessToken, value: str, expires_in) -> tuple[str, int]:
    """stable_token with force_refresh; if WeChat refuses, the value it handed back in normal mode."""
    row.forced_at = timezone.now()
    try:
        return _fetch(account, row.kind, force=True)
    except WeChatError as exc:
        logger.warning("wechat.token_force_refresh_failed", extra={"appid": account.appid, "errcode": exc.errcode})
        return value, expires_in


def access_token_info(*, account) -> AccessToken:
    """The stored row, refreshed first if it is due."""
    access_token_get(account=account)
    return AccessToken.objects.get(account=account, kind=Kind.ACCESS_TOKEN)


# This process's last reads: (account id, kind) -> (value, usable until, trusted until), on the monotonic clock. A read
# is usable while its value has more than WECHAT_TOKEN_MIN_REMAINING left, and trusted for WECHAT_TOKEN_LOCAL_CACHE_SECONDS.
# It only saves reads of the row; every refresh and invalidation still goes through the database.
_recent: dict[tuple[int, str], tuple[str, float, float]] = {}


def _remember(account_id: int, kind: str, value: str, expires_at: datetime) -> None:
    ttl = settings.WECHAT_TOKEN_LOCAL_CACHE_SECONDS
    if ttl > 0:
        now = time.monotonic()
        usable = (expires_at - timezone.now()).total_seconds() - settings.WECHAT_TOKEN_MIN_REMAINING
        _recent[(account_id, kind)] = (value, now + usable, now + ttl)


def _forget(account_id: int, kind: str) -> None:
    _recent.pop((account_id, kind), None)


def local_cache_clear() -> None:
    _recent.clear()


_thread = threading.local()


@contextmanager
def from_process_cache():
    """Reads in this block (by this thread) take the process's last read of a value for as long as the value itself
    has more than ``WECHAT_TOKEN_MIN_REMAINING`` left, however old that read is: the threads of a sending pool open no
    database connection for the token (dozens of threads would each open one when the read ages out together).

    A value another process has replaced meanwhile still works, as WeChat keeps the old token valid for a while; one
    that WeChat rejects goes through ``access_token_reject`` as usual. The thread that runs the pool reads the token
    again from time to time (``access_token_get``), which renews the process's read."""
    _thread.cache_only = True
    try:
        yield
    finally:
        _thread.cache_only = False


_READ_FIELDS = ("account", "kind", "value", "expires_at", "retry_at", "last_errcode", "last_errmsg")


def _get(account, kind) -> str:
    hit = _recent.get((account.pk, kind))
    if hit and hit[1] > (now := time.monotonic()) and (hit[2] > now or getattr(_thread, "cache_only", False)):
        return hit[0]
    row = AccessToken.objects.filter(account=account, kind=kind).only(*_READ_FIELDS).first()
    if row and row.seconds_left() > settings.WECHAT_TOKEN_MIN_REMAINING:
        _remember(account.pk, kind, row.value, row.expires_at)
        return row.value
    if row and row.backing_off():
        return _while_backing_off(row, keep_valid=True)  # no lock and no call to WeChat
    return _refresh(account, kind, keep_valid=True)


def _while_backing_off(row: AccessToken, *, keep_valid: bool) -> str:
    """A reader keeps a value that still has time left; otherwise the stored failure is raised at once."""
    now = timezone.now()
    if keep_valid and row.seconds_left(now) > 0:
        return row.value
    raise _backoff_error(row)


def _backoff_error(row: AccessToken) -> WeChatRefreshBackoff:
    logger.info(
        "wechat.token_refresh_backing_off",
        extra={"account_id": row.account_id, "kind": row.kind, "errcode": row.last_errcode, "retry_at": row.retry_at},
    )
    return WeChatRefreshBackoff(row.last_errcode or -1, row.last_errmsg, retry_at=row.retry_at)


def _refresh(account, kind, *, force: bool = False, min_remaining: int | None = None, keep_valid: bool = False) -> str:
    """Refresh under the row lock. ``keep_valid``: a reader that cannot get a new value keeps the stored one while
    it has time left (it is refreshed early, below ``min_remaining``)."""
    if min_remaining is None:
        min_remaining = settings.WECHAT_TOKEN_MIN_REMAINING
    AccessToken.objects.get_or_create(account=account, kind=kind)
    with transaction.atomic():
        row = AccessToken.objects.select_for_update().get(account=account, kind=kind)
        if not force and row.seconds_left() > min_remaining:
            _remember(account.pk, kind, row.value, row.expires_at)
            return row.value  # another reader refreshed it while this one waited for the lock
        if not force and row.backing_off():
            return _while_backing_off(row, keep_valid=keep_valid)  # another refresh failed while this one waited
        if force and kind == Kind.ACCESS_TOKEN and account.use_stable_token:
            row.forced_at = timezone.now()
        try:
            value, expires_in = _fetch(account, kind, force=force)
        except WeChatError as exc:
            # A refused force_refresh says nothing about normal refreshes: it does not hold them back.
            _record_failure(account, row, exc, backoff=not force)
            if keep_valid and row.seconds_left() > 0:
                return row.value
            error = exc
        else:
            _record_success(account, row, value, expires_in)
            return value
    raise error


def _record_success(account, row: AccessToken, value: str, expires_in) -> None:
    now = timezone.now()
    row.value = value
    row.expires_at = now + timedelta(seconds=int(expires_in))
    row.refreshed_at = now
    row.refresh_count += 1
    row.last_error, row.last_errcode, row.last_errmsg = "", None, ""
    row.failures, row.retry_at = 0, None
    row.save()
    _remember(account.pk, row.kind, value, row.expires_at)
    logger.info("wechat.token_refreshed", extra={"appid": account.appid, "kind": row.kind, "expires_in": expires_in})


def _record_failure(account, row: AccessToken, exc: WeChatError, *, backoff: bool = True) -> None:
    delay = 0.0
    if backoff:
        row.failures += 1
        policy = TOKEN_REFRESH.configured(
            base=settings.WECHAT_TOKEN_REFRESH_BACKOFF_SECONDS, cap=settings.WECHAT_TOKEN_REFRESH_BACKOFF_MAX_SECONDS
        )
        delay = policy.delay(row.failures, exc)
        row.retry_at = timezone.now() + timedelta(seconds=delay) if delay > 0 else None
    row.last_error = exc.display[:255]
    row.last_errcode = exc.errcode
    row.last_errmsg = exc.errmsg[:255]
    row.save(update_fields=["failures", "retry_at", "forced_at", "last_error", "last_errcode", "last_errmsg"])
    logger.warning(
        "wechat.token_refresh_failed",
        extra={"appid": account.appid, "kind": row.kind, "errcode": exc.errcode, "failures": row.failures, "backoff": delay},
    )


def call_with_access_token(account, endpoint: Endpoint, **kwargs) -> dict | bytes:
    """``wechat.http.call`` with the account's access_token. An auth error (40001/40014/42001) invalidates exactly the
    token that was used and the call is retried once with its replacement; a second rejection is raised."""
    used = access_token_get(account=account)
    try:
        return http.call(account, endpoint, access_token=used, **kwargs)
    except WeChatError as exc:
        if not exc.is_auth:
            raise
        logger.info("wechat.token_rejected", extra={"appid": account.appid, "errcode": exc.errcode})
        fresh = access_token_reject(account=account, value=used)
        if fresh is None:
            raise
        return http.call(account, endpoint, access_token=fresh, **kwargs)


def _fetch(account, kind, *, force: bool) -> tuple[str, int]:
    if kind == Kind.JSAPI_TICKET:
        grant = basic.jsapi_ticket_fetch(account=account, access_token=access_token_get(account=account))
    elif account.use_stable_token:
        grant = basic.stable_token_fetch(account=account, force_refresh=force)
    else:
        grant = basic.token_fetch(account=account)
    return grant.value, grant.expires_in


def tokens_due(*, within: int) -> list[AccessToken]:
    """Stored credentials that expire within ``within`` seconds and are not backing off after a failure."""
    now = timezone.now()
    due = AccessToken.objects.filter(expires_at__lt=now + timedelta(seconds=within)).exclude(retry_at__gt=now)
    return list(due.select_related("account"))


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
