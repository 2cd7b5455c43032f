from django.db import models
from django.utils.translation import gettext_lazy as _


class InboundMessage(models.Model):
    """Every message and event WeChat pushed to the callback, stored before the reply is sent."""

    # Indexes are kept few: every one is paid on each callback insert. The unique dedupe key covers account lookups.
    account = models.ForeignKey(
        "accounts.OfficialAccount",
        on_delete=models.CASCADE,
        related_name="inbound_messages",
        verbose_name=_("account"),
        db_index=False,
    )
    openid = models.CharField(_("follower OpenID"), max_length=64)
    msg_type = models.CharField(_("message type"), max_length=32)
    event = models.CharField(_("event"), max_length=64, blank=True)
    event_key = models.CharField(_("event key"), max_length=512, blank=True)
    content = models.TextField(_("content"), blank=True)
    msg_id = models.CharField(_("MsgId"), max_length=32, blank=True)
    # MsgId for messages; FromUserName|CreateTime|Event|EventKey for events (job events: their MsgID).
    dedupe_key = models.CharField(_("dedupe key"), max_length=700)
    payload = models.JSONField(_("fields"), default=dict)
    raw_xml = models.TextField(_("raw XML"))
    create_time = models.DateTimeField(_("sent at (CreateTime)"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    reply_xml = models.TextField(_("reply"), blank=True, help_text=_("Empty means 'success' (no reply)."))
    reply_sent = models.BooleanField(_("reply sent"), default=False)
    handled_at = models.DateTimeField(_("side effects done at"), null=True, blank=True)
    matched_rule = models.ForeignKey(
        "autoreply.AutoReplyRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
        verbose_name=_("matched auto-reply rule"),
        db_index=False,
    )
    # The file of an image, voice or video message, downloaded and kept by media_assets.
    received_media = models.ForeignKey(
        "media_assets.TemporaryMedia",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
        verbose_name=_("received media"),
        db_index=False,
    )

    class Meta:
        db_table = "messaging_inboundmessage"
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "dedupe_key"], name="uniq_inbound_dedupe_key")]
        indexes = [
            models.Index(fields=["account", "openid", "-received_at"], name="inbound_thread_idx"),
            models.Index(fields=["account", "id"], condition=models.Q(handled_at__isnull=True), name="inbound_unhandled_idx"),
            models.Index(
                fields=["received_media"], condition=models.Q(received_media__isnull=False), name="inbound_received_media_idx"
            ),
        ]

    def __str__(self):
        label = self.event or self.msg_type
        return f"{self.openid} {label} {self.content[:30]}"


class CallbackSignature(models.Model):
    """A signed callback's (timestamp, nonce, signature), tied to the body it first came with.

    A plaintext signature covers the token, timestamp and nonce only, so the same query string would sign any body.
    The row is written by the statement that stores the message (``services.inbound_receive``) and is of no use once
    its timestamp is outside the accepted window (``expires_at``); beat prunes it then.
    """

    # sha256 of appid|timestamp|nonce|signature, and of the request body.
    key = models.CharField(_("key"), max_length=64, primary_key=True)
    body_digest = models.CharField(_("body digest"), max_length=64)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("callback signature")
        verbose_name_plural = _("callback signatures")

    def __str__(self):
        return self.key


class InboundEffectFailure(models.Model):
    """A side effect of an inbound message that raised; retried by a beat task until it runs or attempts run out."""

    inbound = models.ForeignKey(
        InboundMessage, on_delete=models.CASCADE, related_name="effect_failures", verbose_name=_("inbound message")
    )
    effect = models.CharField(_("side effect"), max_length=64)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    # None: no further attempt (given up).
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    errcode = models.IntegerField(_("WeChat errcode"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("first failed at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last failed at"), auto_now=True)

    class Meta:
        verbose_name = _("inbound side-effect failure")
        verbose_name_plural = _("inbound side-effect failures")
        constraints = [models.UniqueConstraint(fields=["inbound", "effect"], name="uniq_inbound_effect_failure")]
        indexes = [models.Index(fields=["next_attempt_at"], name="inbound_effect_retry_idx")]

    def __str__(self):
        return f"{self.effect} of inbound {self.inbound_id}"
