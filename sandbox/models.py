"""State of the offline WeChat imitation. Nothing outside sandbox/ reads these tables."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SandboxApp(models.Model):
    """An official account as WeChat's side knows it (the console configuration)."""

    appid = models.CharField(max_length=32, unique=True)
    secret = models.CharField(max_length=64)
    original_id = models.CharField(max_length=32)
    callback_token = models.CharField(max_length=32)
    encoding_aes_key = models.CharField(max_length=43, blank=True)
    encoding_mode = models.CharField(max_length=16, default="plain")
    callback_url = models.CharField(max_length=255)
    account_type = models.CharField(max_length=16, default="service")
    verified = models.BooleanField(default=True)
    # Seconds added to the real clock for this app, so tests can move WeChat's time forward.
    clock_offset = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sandbox app")
        verbose_name_plural = _("sandbox apps")

    def __str__(self):
        return self.appid


class SandboxCredential(models.Model):
    class Kind(models.TextChoices):
        TOKEN = "token"
        STABLE_TOKEN = "stable_token"
        JSAPI_TICKET = "jsapi_ticket"

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="credentials")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=200, unique=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["app", "kind", "-issued_at"], name="sandbox_cred_latest_idx")]


class SandboxQuota(models.Model):
    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="quotas")
    api = models.CharField(max_length=128)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    limit = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "api", "day"], name="uniq_sandbox_quota")]


class SandboxFault(models.Model):
    """Injected misbehaviour for matching calls: latency, an errcode, or a timeout."""

    class Kind(models.TextChoices):
        LATENCY = "latency"  # value = milliseconds, then answer normally
        ERRCODE = "errcode"  # value = errcode to answer instead
        TIMEOUT_BEFORE = "timeout_before"  # the caller times out; the call had no effect
        TIMEOUT_AFTER = "timeout_after"  # the call took effect, but the caller times out

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, null=True, blank=True, related_name="faults")
    api = models.CharField(max_length=128, help_text="endpoint path such as cgi-bin/token, or * for all")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.IntegerField(default=0)
    remaining = models.PositiveIntegerField(null=True, blank=True, help_text="calls left to affect; empty: all")
    created_at = models.DateTimeField(auto_now_add=True)


class SandboxCall(models.Model):
    """Every call the sandbox answered, for tests and the simulator to inspect."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, null=True, blank=True, related_name="calls")
    api = models.CharField(max_length=128, db_index=True)
    errcode = models.IntegerField(default=0)
    request_json = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class SandboxDelivery(models.Model):
    """A message that reached a follower's phone through an API (customer service, template, mass)."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="deliveries")
    openid = models.CharField(max_length=64, db_index=True)
    channel = models.CharField(max_length=32)  # custom, template, mass, passive
    msgtype = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    msg_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class SandboxFollower(models.Model):
    """A WeChat user as WeChat's side knows them for one app."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="followers")
    openid = models.CharField(max_length=64)
    unionid = models.CharField(max_length=64, blank=True)
    subscribed = models.BooleanField(default=True)
    subscribe_time = models.IntegerField(default=0)
    subscribe_scene = models.CharField(max_length=32, default="ADD_SCENE_QR_CODE")
    qr_scene = models.IntegerField(default=0)
    qr_scene_str = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=16, default="zh_CN")
    remark = models.CharField(max_length=30, blank=True)
    tagids = models.JSONField(default=list)
    blacklisted = models.BooleanField(default=False)
    last_interaction_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["app", "openid"], name="uniq_sandbox_follower")]
