from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import tokens
from .models import ApiCallLog


@shared_task
def tokens_refresh_due():
    return tokens.tokens_refresh_due()


@shared_task
def api_call_log_prune():
    cutoff = timezone.now() - timedelta(days=settings.WECHAT_API_CALL_LOG_DAYS)
    return ApiCallLog.objects.filter(created_at__lt=cutoff).delete()[0]
