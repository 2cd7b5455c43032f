"""Follower side effects of inbound messages and events (no WeChat call): follow, unfollow, scans, location, interactions."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils import timezone

from accounts.models import OfficialAccount
from followers.models import Follower, SubscribeScene
from wechat.message_kinds import is_follower_message, is_interaction


def _decimal(value, places: int) -> Decimal | None:
    try:
        return round(Decimal(str(value)), places)
    except (InvalidOperation, TypeError, ValueError):
        return None


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _follower_touch(account: OfficialAccount, openid: str, fields: dict) -> bool:
    """Apply ``fields`` to the follower's row, creating it if new. Returns True when the row was created."""
    follower, created = Follower.objects.get_or_create(account=account, openid=openid, defaults=fields)
    if not created and fields:
        Follower.objects.filter(pk=follower.pk).update(**fields, updated_at=timezone.now())
    return created


def follower_event_apply(*, inbound) -> bool:
    """Reflect one inbound message or event on its follower (no WeChat call).

    Returns True after a follow, when the caller should fetch user/info for the rest of the profile.
    """
    openid, account, payload = inbound.openid, inbound.account, inbound.payload or {}
    # The inbound log stores msg_type lower-cased and event as WeChat spelt it (CLICK, SCAN).
    event = (inbound.event or "").lower() if inbound.msg_type == "event" else ""
    interaction = is_interaction(msg_type=inbound.msg_type, event=event)
    at = inbound.create_time
    if not openid or not (is_follower_message(inbound.msg_type) or inbound.msg_type == "event"):
        return False
    if event == "subscribe":
        fields = {"subscribed": True, "subscribe_time": at, "unsubscribed_at": None}
        key = str(payload.get("EventKey") or "")
        if key.startswith("qrscene_"):
            fields.update(qr_scene=key.removeprefix("qrscene_")[:64], subscribe_scene=SubscribeScene.QR_CODE)
        else:
            # Followed some other way (search, a card, …): user/info, fetched next, says which; no QR scene.
            fields.update(qr_scene="", subscribe_scene="")
        _follower_touch(account, openid, fields)
    elif event == "unsubscribe":
        _follower_touch(account, openid, {"subscribed": False, "unsubscribed_at": at})
    elif event == "scan":
        # A follower scanning a code keeps the scene they followed from; the qrcodes app counts the scan.
        _follower_touch(account, openid, {})
    elif event == "location":
        location = {
            "latitude": _decimal(payload.get("Latitude"), 6),
            "longitude": _decimal(payload.get("Longitude"), 6),
            "location_precision": _float(payload.get("Precision")),
            "location_at": at,
        }
        _follower_touch(account, openid, location)
    elif interaction:
        _follower_touch(account, openid, {})
    else:
        return False  # VIEW, job-finish events (from the 群发助手 account), ...: not a follower's state
    if interaction:
        # Only forward: a late, older event must not shorten the customer-service window.
        Follower.objects.filter(account=account, openid=openid).filter(
            Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lt=at)
        ).update(last_interaction_at=at)
    return event == "subscribe"
