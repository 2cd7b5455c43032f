from __future__ import annotations

import time

from django.db.models import QuerySet

from .models import OfficialAccount

# The callback looks its account up on every request; a short per-process cache keeps that off the
# database. Saves in this process clear it at once (signals.py); other processes see changes within the TTL.
_CALLBACK_CACHE_TTL = 10.0
_callback_cache: dict[str, tuple[float, OfficialAccount | None]] = {}


def account_for_callback(appid: str) -> OfficialAccount | None:
    now = time.monotonic()
    hit = _callback_cache.get(appid)
    if hit and hit[0] > now:
        return hit[1]
    account = OfficialAccount.objects.filter(appid=appid).first()
    _callback_cache[appid] = (now + _CALLBACK_CACHE_TTL, account)
    return account


def callback_cache_clear() -> None:
    _callback_cache.clear()


def accounts_for_user(user) -> QuerySet[OfficialAccount]:
    """The accounts a user (an operator, or a service calling the API) may see and manage."""
    if not (user and user.is_authenticated and user.is_active):
        return OfficialAccount.objects.none()
    if user.is_superuser:
        return OfficialAccount.objects.all()
    return OfficialAccount.objects.filter(operators=user)
