from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import OfficialAccount
from .selectors import callback_cache_clear


@receiver([post_save, post_delete], sender=OfficialAccount)
def _account_changed(**kwargs):
    callback_cache_clear()
