"""Inbound message reads."""

from .models import InboundMessage


def follower_messages(*, account, openid: str, limit: int = 500) -> list[InboundMessage]:
    """The follower's latest messages and events with the rule that answered each, oldest first."""
    latest = (
        InboundMessage.objects.filter(account=account, openid=openid)
        .select_related("matched_rule")
        .order_by("-received_at", "-id")[:limit]
    )
    return list(reversed(latest))
