"""Follower side effects of inbound messages and events, and of web logins (OAuth)."""

from django.db import transaction
from django.dispatch import receiver

from accounts.signals import oauth_login
from messaging.inbound.services import inbound_received

from .services import events, oauth_link


@receiver(inbound_received, dispatch_uid="followers.follower_event")
def follower_event(sender, inbound, **kwargs):
    if events.follower_event_apply(inbound=inbound):
        from .tasks import follower_info_fetch

        account_id, openid = inbound.account_id, inbound.openid
        transaction.on_commit(lambda: follower_info_fetch.delay(account_id, openid))


@receiver(oauth_login, dispatch_uid="followers.oauth_link")
def follower_from_oauth(sender, account, openid, unionid="", **kwargs):
    oauth_link.follower_link_from_oauth(account=account, openid=openid, unionid=unionid)
