"""Template message reads: who a push reaches."""

from django.db.models import Q, QuerySet

from followers import selectors as followers_selectors

from .models import TemplateMessage, TemplatePush


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
