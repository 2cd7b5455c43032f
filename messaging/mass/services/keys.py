"""Retention of the Idempotency-Key answers stored by the send APIs."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from ..models import IdempotencyKey


def idempotency_keys_prune(*, now: datetime | None = None) -> int:
    """Delete keys older than API_IDEMPOTENCY_KEY_DAYS; a client retrying later than that creates anew."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.API_IDEMPOTENCY_KEY_DAYS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
