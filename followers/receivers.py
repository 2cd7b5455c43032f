"""Follower side effects of inbound messages and events, and of web logins (OAuth)."""

from django.db import transaction
from django.dispatch import receiver

import jobs
from accounts.signals import oauth_login

from .services import events, oauth_link


def follower_event(inbound):
    """Inbound effect (registered by messaging.inbound, the layer above): update the follower from the event."""
    if events.follower_event_apply(inbound=inbound):
        follower_info_fetch = jobs.task("accounts.tasks.follower_info_fetch")

        account_id, openid = inbound.account_id, inbound.openid
        transaction.on_commit(lambda: follower_info_fetch.delay(account_id, openid))


@receiver(oauth_login, dispatch_uid="followers.oauth_link")
def follower_from_oauth(sender, account, openid, unionid="", **kwargs):
    oauth_link.follower_link_from_oauth(account=account, openid=openid, unionid=unionid)
