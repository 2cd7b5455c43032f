"""What followers send and which of their actions count as an interaction (API.md §9).

The one home of these facts: the inbound pipeline, the customer-service window, follower activity and the
sandbox's phone all ask here. WeChat spells some events in upper case (``CLICK``, ``SCAN``); every
comparison is on the lower-cased value.
"""

from __future__ import annotations

from datetime import timedelta

# Message types a follower sends (MsgType), as opposed to "event".
FOLLOWER_MESSAGE_TYPES: frozenset[str] = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})

# Events that open the customer-service window: following, a menu click, a QR scan, a scan-code menu.
INTERACTION_EVENTS: frozenset[str] = frozenset({"subscribe", "click", "scan", "scancode_push", "scancode_waitmsg"})

# Every event a follower's own action causes (lower case). Other events are WeChat's reports about the account's
# jobs and status (TEMPLATESENDJOBFINISH, MASSSENDJOBFINISH, PUBLISHJOBFINISH, verification results…): system events.
FOLLOWER_EVENTS: frozenset[str] = INTERACTION_EVENTS | {
    "unsubscribe",
    "view",
    "location",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
    "view_miniprogram",
}

# WeChat accepts customer-service messages this long after the follower's last interaction (error 45015 after).
CUSTOMER_SERVICE_WINDOW = timedelta(hours=48)


def is_follower_message(msg_type: str | None) -> bool:
    """A message the follower typed or sent (text, image, voice, video, location, link), not an event."""
    return (msg_type or "").lower() in FOLLOWER_MESSAGE_TYPES


def is_interaction(*, msg_type: str | None, event: str | None = "") -> bool:
    """Whether this inbound message or event opens the 48-hour customer-service window."""
    if is_follower_message(msg_type):
        return True
    return (msg_type or "").lower() == "event" and (event or "").lower() in INTERACTION_EVENTS
