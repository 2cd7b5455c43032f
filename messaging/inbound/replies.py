"""Passive replies (被动回复): which one answers a message; ``wechat.outgoing.reply_xml`` renders it (API.md §2.1)."""

from __future__ import annotations

from dataclasses import dataclass

from wechat.outgoing import OutgoingMessage

SUCCESS = "success"


@dataclass(frozen=True)
class Match:
    """The passive reply chosen for an inbound message, and the auto-reply rule that chose it."""

    reply: OutgoingMessage | None
    rule_id: int | None = None


# The auto-reply app registers the function that picks a message's passive reply (AutoreplyConfig.ready()).
_reply_provider = None


def reply_provider_set(provider) -> None:
    """``provider(account, data) -> Match``; runs inside the callback, so it makes no network calls."""
    global _reply_provider
    _reply_provider = provider


def reply_for(account, data: dict) -> Match:
    if _reply_provider is None:
        return Match(None)
    return _reply_provider(account, data)
