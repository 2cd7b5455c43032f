"""Template message reads: who a push reaches."""

from followers.models import Follower

from .models import TemplatePush


def audience_openids(push: TemplatePush):
    """The receivers' OpenIDs, streamed."""
    if push.audience == TemplatePush.Audience.OPENIDS:
        yield from push.openids
        return
    followers = Follower.objects.filter(account_id=push.account_id, subscribed=True)
    if push.audience == TemplatePush.Audience.TAG:
        if push.tag_id is None:
            return
        followers = followers.filter(tags=push.tag_id)
    # Keyset pages rather than one long cursor: each page is a short indexed query, whatever the table's size.
    last = 0
    while page := list(followers.filter(pk__gt=last).order_by("pk").values_list("pk", "openid")[:5000]):
        last = page[-1][0]
        yield from (openid for _pk, openid in page)
