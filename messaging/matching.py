"""Choosing the passive reply for an inbound message. Runs inside the callback: no network calls."""

from __future__ import annotations

import logging

from .replies import Reply

logger = logging.getLogger(__name__)

# Message types a follower sends; events are pushed by WeChat on the follower's behalf.
FOLLOWER_MESSAGE_TYPES = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})


def reply_for(account, data: dict) -> Reply | None:
    if str(data.get("MsgType", "")).lower() in FOLLOWER_MESSAGE_TYPES and account.default_reply_text:
        return Reply.text(account.default_reply_text)
    return None
