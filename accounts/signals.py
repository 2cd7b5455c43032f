from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from .models import OfficialAccount
from .selectors import callback_cache_clear

# Sent after WeChat vouched for a visitor's openid in a web login: account, openid, unionid ("" when unknown).
# The followers app links the login to its Follower; accounts does not know about followers.
oauth_login = Signal()


@receiver([post_save, post_delete], sender=OfficialAccount)
def _account_changed(**kwargs):
    callback_cache_clear()
    # Again once committed: a callback in another thread may have cached the old row in between.
    transaction.on_commit(callback_cache_clear)
