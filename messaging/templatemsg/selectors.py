"""Template message reads: who a push reaches."""

from django.db.models import Count, Q, QuerySet

from followers import selectors as followers_selectors

from .models import TemplateMessage, TemplatePush
from .validation import content_render


def audience_openids(push: TemplatePush):
    """The receivers' OpenIDs, streamed: an operator's list as given, else the followers the push's audience
    reaches (subscribed, not blacklisted)."""
    if push.audience == TemplatePush.Audience.OPENIDS:
        yield from push.openids
        return
    if push.audience == TemplatePush.Audience.TAG and push.tag_id is None:
        return
    tag = push.tag_id if push.audience == TemplatePush.Audience.TAG else None
    yield from followers_selectors.audience_openids(queryset=followers_selectors.audience(account=push.account_id, tag=tag))


def pushes_in_flight(pushes) -> QuerySet[TemplatePush]:
    """The pushes whose figures still change: sending, or with messages not yet settled by TEMPLATESENDJOBFINISH."""
    open_statuses = [TemplateMessage.Status.QUEUED, TemplateMessage.Status.SENDING, TemplateMessage.Status.SENT]
    return pushes.filter(Q(status=TemplatePush.Status.SENDING) | Q(messages__status__in=open_statuses)).distinct()


def push_audience_size(push: TemplatePush) -> int:
    """How many followers the push would reach if it started now (our records)."""
    if push.audience == TemplatePush.Audience.OPENIDS:
        return len(push.openids or [])
    if push.audience == TemplatePush.Audience.TAG and push.tag_id is None:
        return 0
    tag = push.tag_id if push.audience == TemplatePush.Audience.TAG else None
    return followers_selectors.audience(account=push.account_id, tag=tag).count()


def pushes_with_figures(queryset):
    """Pushes annotated with their live figures, counted from the message rows.

    Delivery results (TEMPLATESENDJOBFINISH) keep arriving after the last batch stored its totals, so the list
    and a push's own page both read these, never the stored counters.
    """
    status = TemplateMessage.Status
    failed = [status.FAILED, status.FAILED_USER_BLOCK, status.FAILED_SYSTEM]
    accepted = [status.SENT, status.SUCCESS, status.FAILED_USER_BLOCK, status.FAILED_SYSTEM]
    return queryset.annotate(
        open_count=Count("messages", filter=Q(messages__status__in=[status.QUEUED, status.SENDING])),
        live_sent=Count("messages", filter=Q(messages__status__in=accepted)),
        live_success=Count("messages", filter=Q(messages__status=status.SUCCESS)),
        live_failed=Count("messages", filter=Q(messages__status__in=failed)),
    )


def template_messages_to_follower(*, account, openid: str, limit: int = 200) -> list[TemplateMessage]:
    """The template messages sent (or queued) to one follower, newest first, at most ``limit``."""
    rows = TemplateMessage.objects.filter(account=account, openid=openid).select_related("template", "push")
    return list(rows.order_by("-created_at", "-id")[:limit])


def template_message_text(message: TemplateMessage) -> str:
    """The message as the follower reads it: the template's content with the message's values filled in."""
    content = message.template.content if message.template is not None else ""
    if not content:
        return "\n".join(str(v.get("value", "")) if isinstance(v, dict) else str(v) for v in (message.data or {}).values())
    return content_render(content, message.data or {})
