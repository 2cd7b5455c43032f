"""Idempotency keys of the send APIs: a client's retry of a POST gets the first answer instead of a second send."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """One ``Idempotency-Key`` an API client sent to a send endpoint of an account, with the answer it got.

    Stored in the same transaction as what the request created, so either both exist or neither does.
    """

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="idempotency_keys", verbose_name=_("account")
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("API user"))
    key = models.CharField(_("idempotency key"), max_length=255)
    endpoint = models.CharField(_("endpoint"), max_length=64)
    request_hash = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("answer status"))
    response_body = models.JSONField(_("answer body"), encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="uniq_idempotency_key_per_account")]

    def __str__(self):
        return self.key
