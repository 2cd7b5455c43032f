"""``Idempotency-Key`` for the send endpoints (POST mass-messages/, POST template-messages/).

The first request with a key stores its answer in the same transaction as what it created; a retry with the
same key and body (same account and user) gets that answer again and creates nothing. The same key with another
body, or from another user, is refused with 422. Only successful answers are kept: a refused request stores
nothing, so the client may correct it and retry under the same key.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from ..models import IdempotencyKey

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class _Refused(Exception):
    """Leaves the transaction (and drops the key) when the request was not a success."""

    def __init__(self, response):
        self.response = response


def _fingerprint(endpoint: str, data) -> str:
    if isinstance(data, QueryDict):
        data = {key: data.getlist(key) for key in sorted(data)}
    canonical = json.dumps([endpoint, data], sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _key_from(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationError(
            {HEADER: [_("The Idempotency-Key must be 1 to %(n)d printable ASCII characters.") % {"n": MAX_KEY_LENGTH}]}
        )
    return key


def _replay(row: IdempotencyKey, *, user, fingerprint: str) -> Response:
    if row.user_id != user.pk or row.request_hash != fingerprint:
        logger.info("api.idempotency_key_mismatch", extra={"account_id": row.account_id, "endpoint": row.endpoint})
        return Response(
            {"detail": _("This Idempotency-Key was already used for a different request. Send a new key for a new request.")},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    response = Response(row.response_body, status=row.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent_post(request, *, account, endpoint: str, create) -> Response:
    """Answer ``create()`` once per key; without the header, just ``create()``."""
    key = _key_from(request)
    if key is None:
        return create()
    fingerprint = _fingerprint(endpoint, request.data)
    row = IdempotencyKey.objects.filter(account=account, key=key).first()
    if row is not None:
        return _replay(row, user=request.user, fingerprint=fingerprint)
    try:
        with transaction.atomic():
            # Taken first, so a concurrent request with the key waits on the row and then replays this answer.
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    account=account,
                    user=request.user,
                    key=key,
                    endpoint=endpoint,
                    request_hash=fingerprint,
                    status_code=status.HTTP_202_ACCEPTED,
                    response_body={},
                )
            response = create()
            if not status.is_success(response.status_code):
                raise _Refused(response)
            IdempotencyKey.objects.filter(pk=row.pk).update(status_code=response.status_code, response_body=response.data)
    except _Refused as refused:
        return refused.response
    except IntegrityError:
        row = IdempotencyKey.objects.filter(account=account, key=key).first()
        if row is None:
            raise
        return _replay(row, user=request.user, fingerprint=fingerprint)
    return response
