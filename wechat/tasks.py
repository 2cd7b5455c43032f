from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import tokens
from .models import ApiCallLog

# Names pinned to the module paths they were first registered under: beat rows carry them.
# No retry policy: the beat runs them (tokens every minute, the log prune nightly); the next run is the retry.


@shared_task(name="wechat.tasks.tokens_refresh_due")
def tokens_refresh_due():
    return tokens.tokens_refresh_due()


@shared_task(name="wechat.tasks.api_call_log_prune")
def api_call_log_prune():
    cutoff = timezone.now() - timedelta(days=settings.WECHAT_API_CALL_LOG_DAYS)
    return ApiCallLog.objects.filter(created_at__lt=cutoff).delete()[0]
