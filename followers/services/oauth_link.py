from django.utils import timezone

from accounts.models import OfficialAccount
from followers.models import Follower


def follower_link_from_oauth(*, account: OfficialAccount, openid: str, unionid: str = "") -> Follower:
    """The Follower for an openid WeChat vouched for in a web login; created unsubscribed when unknown.

    A web login does not say whether the user follows the account, so an existing row keeps its state
    and a new one is not marked subscribed (the next follower sync or a subscribe event tells).
    """
    follower, created = Follower.objects.get_or_create(
        account=account, openid=openid, defaults={"subscribed": False, "unionid": unionid}
    )
    if not created and unionid and follower.unionid != unionid:
        Follower.objects.filter(pk=follower.pk).update(unionid=unionid, updated_at=timezone.now())
        follower.unionid = unionid
    return follower
