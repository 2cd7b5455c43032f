"""Follower side effects of inbound messages and events (subscribe, unsubscribe, scans, location, interactions)."""

from django.db import transaction
from django.dispatch import receiver

from messaging.services import inbound_received

from . import sync


@receiver(inbound_received, dispatch_uid="accounts.follower_event")
def follower_event(sender, inbound, **kwargs):
    if sync.follower_event_apply(inbound=inbound):
        from .tasks import follower_info_fetch

        account_id, openid = inbound.account_id, inbound.openid
        transaction.on_commit(lambda: follower_info_fetch.delay(account_id, openid))
