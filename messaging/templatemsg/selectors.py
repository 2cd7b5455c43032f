"""Template message reads: who a push reaches."""

from followers import selectors as followers_selectors

from .models import TemplatePush


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
