"""Choosing the passive reply for an inbound message. Runs inside the callback: no network calls."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from . import rules
from .replies import Reply

logger = logging.getLogger(__name__)

# Message types a follower sends; events are pushed by WeChat on the follower's behalf.
FOLLOWER_MESSAGE_TYPES = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})


@dataclass(frozen=True)
class Match:
    reply: Reply | None
    rule_id: int | None = None


def reply_for(account, data: dict) -> Match:
    """The account's auto-reply rule for ``data``; with no rule, the account's default text for follower messages."""
    try:
        found = rules.match(account, data)
    except Exception:  # a broken rule set must not cost the follower the default reply
        logger.exception("autoreply.match_failed", extra={"appid": account.appid})
        found = None
    if found is not None:
        return Match(found.passive(), found.rule_id)
    if str(data.get("MsgType", "")).lower() in FOLLOWER_MESSAGE_TYPES and account.default_reply_text:
        return Match(Reply.text(account.default_reply_text))
    return Match(None)
