from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessToken(models.Model):
    """The one stored credential of a kind per account; see ``wechat.tokens``."""

    class Kind(models.TextChoices):
        ACCESS_TOKEN = "access_token", "access_token"
        JSAPI_TICKET = "jsapi_ticket", "jsapi_ticket"

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="credentials", verbose_name=_("account")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    value = models.TextField(_("value"), blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)
    refresh_count = models.PositiveIntegerField(_("refreshes"), default=0)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)
    # The last failed refresh, remembered so that every process backs off instead of calling WeChat again.
    last_errcode = models.IntegerField(_("last errcode"), null=True, blank=True)
    last_errmsg = models.CharField(_("last errmsg"), max_length=255, blank=True)
    failures = models.PositiveIntegerField(_("failed refreshes in a row"), default=0)
    retry_at = models.DateTimeField(_("next refresh attempt"), null=True, blank=True)
    forced_at = models.DateTimeField(_("force refresh tried at"), null=True, blank=True)

    class Meta:
        verbose_name = _("access token")
        verbose_name_plural = _("access tokens")
        constraints = [models.UniqueConstraint(fields=["account", "kind"], name="uniq_credential_per_account_kind")]

    def __str__(self):
        return f"{self.account_id}:{self.kind}"

    def seconds_left(self, now=None) -> float:
        if not self.value or not self.expires_at:
            return 0.0
        return (self.expires_at - (now or timezone.now())).total_seconds()

    def backing_off(self, now=None) -> bool:
        """Whether a refresh failed moments ago and must not be tried again yet."""
        return bool(self.retry_at and self.retry_at > (now or timezone.now()))


class ApiCallLog(models.Model):
    """One row per call to WeChat. Never holds a token, secret or request body."""

    account = models.ForeignKey(
        "accounts.OfficialAccount",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_calls",
        verbose_name=_("account"),
    )
    endpoint = models.CharField(_("endpoint"), max_length=128, db_index=True)
    method = models.CharField(_("method"), max_length=8)
    errcode = models.IntegerField(_("errcode"), default=0, db_index=True)
    errmsg = models.CharField(_("errmsg"), max_length=255, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("API call")
        verbose_name_plural = _("API call log")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.method} {self.endpoint} → {self.errcode}"


class SyncStatus(models.TextChoices):
    PENDING = "pending", _("pending sync")
    SYNCING = "syncing", _("syncing")
    SYNCED = "synced", _("synced")
    FAILED = "failed", _("sync failed")


class WeChatSynced(models.Model):
    """Fields of every model that mirrors WeChat state (DESIGN §3, 'Sync with WeChat')."""

    sync_status = models.CharField(
        _("sync status"), max_length=16, choices=SyncStatus.choices, default=SyncStatus.PENDING, db_index=True
    )
    synced_at = models.DateTimeField(_("synced at"), null=True, blank=True)
    last_error = models.CharField(_("last WeChat error"), max_length=255, blank=True)

    class Meta:
        abstract = True
