"""Signal receivers of auto-reply rules, connected in AutoreplyConfig.ready()."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import OfficialAccount
from messaging.inbound.effects import effect_register

from .matching import _version_key, local_cache_clear
from .services import followups_send


def _inbound_followups(inbound):
    if inbound.matched_rule_id:
        followups_send(inbound=inbound)


effect_register(name="autoreply.followups", run=_inbound_followups, order=30)


@receiver([post_save, post_delete], sender=OfficialAccount)
def _account_changed(sender, instance, **kwargs):
    # A new or deleted account must never inherit compiled rules cached under a reused id.
    local_cache_clear(instance.pk)
    cache.delete(_version_key(instance.pk))
