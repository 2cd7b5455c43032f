"""Parametric QR codes (带参数二维码, API.md §7): scenes, channel campaigns and the scans WeChat reports."""

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wechat.models import WeChatSynced


class QRKind(models.TextChoices):
    TEMPORARY = "temporary", _("Temporary (临时二维码)")
    PERMANENT = "permanent", _("Permanent (永久二维码)")


class QRActions(models.Model):
    """What happens when a follower scans: tags to add and an auto-reply rule to answer with."""

    tags = models.ManyToManyField(
        "followers.Tag",
        blank=True,
        related_name="+",
        verbose_name=_("tags to add"),
        help_text=_("Tagged on WeChat once per scan, for new and existing followers."),
    )
    reply_rule = models.ForeignKey(
        "autoreply.AutoReplyRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answer with auto-reply rule"),
        help_text=_(
            "Sent as customer-service messages once per scan, unless the passive reply already answered the scan "
            "(a QR-scan rule for this scene, or this very rule)."
        ),
    )

    class Meta:
        abstract = True


class QRCampaign(QRActions):
    """A channel campaign (渠道二维码): N scenes made together from a name pattern, counted together."""

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="qr_campaigns", verbose_name=_("account")
    )
    name = models.CharField(_("campaign name"), max_length=64)
    name_pattern = models.CharField(
        _("scene name pattern"),
        max_length=64,
        default="{campaign} {n}",
        help_text=_("{n} is the code's number, {campaign} the campaign's name, e.g. “Store {n}”."),
    )
    scene_prefix = models.CharField(
        _("scene string prefix"),
        max_length=48,
        help_text=_("Each code's scene string is the prefix and its number, e.g. spring_1, spring_2."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=QRKind.choices, default=QRKind.PERMANENT)
    expire_seconds = models.PositiveIntegerField(_("expires after (seconds)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("channel campaign (渠道二维码)")
        verbose_name_plural = _("channel campaigns (渠道二维码)")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="uniq_qr_campaign_name"),
            models.UniqueConstraint(fields=["account", "scene_prefix"], name="uniq_qr_campaign_prefix"),
        ]

    def __str__(self):
        return self.name


class QRScene(QRActions, WeChatSynced):
    """One parametric QR code: its scene (id or string), WeChat's ticket and URL, and its expiry."""

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="qr_scenes", verbose_name=_("account")
    )
    campaign = models.ForeignKey(
        QRCampaign, on_delete=models.CASCADE, null=True, blank=True, related_name="scenes", verbose_name=_("campaign")
    )
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=QRKind.choices, default=QRKind.TEMPORARY)
    scene_id = models.PositiveBigIntegerField(_("scene id"), null=True, blank=True)
    scene_str = models.CharField(_("scene string"), max_length=64, blank=True)
    # The EventKey WeChat reports for a scan (scene_id as text, or scene_str): how scans find their scene.
    scene_key = models.CharField(_("scene"), max_length=64, editable=False)
    expire_seconds = models.PositiveIntegerField(_("expires after (seconds)"), null=True, blank=True)
    logo = models.ImageField(_("centre logo"), upload_to="qrcodes/logos/", blank=True)
    ticket = models.CharField(_("ticket"), max_length=255, blank=True)
    url = models.CharField(_("QR content (url)"), max_length=255, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("QR code (带参数二维码)")
        verbose_name_plural = _("QR codes (带参数二维码)")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "scene_key"], name="uniq_qr_scene_per_account")]

    def __str__(self):
        return f"{self.name} ({self.scene_key})"

    @property
    def permanent(self) -> bool:
        return self.kind == QRKind.PERMANENT

    def is_expired(self, now=None) -> bool:
        return bool(self.expires_at and self.expires_at <= (now or timezone.now()))

    def expiry_from(self, created) -> None:
        self.expires_at = None if self.permanent else created + timedelta(seconds=self.expire_seconds or 0)


class QRScan(models.Model):
    """One scan of a scene: a follow through it (new follower) or a SCAN by a follower. One row per inbound event."""

    class Kind(models.TextChoices):
        SUBSCRIBE = "subscribe", _("New follower (扫码关注)")
        SCAN = "scan", _("Existing follower (已关注扫码)")

    class Reply(models.TextChoices):
        NONE = "", _("no reply configured")
        PASSIVE = "passive", _("answered by the passive reply")
        SENT = "sent", _("sent as customer-service messages")

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="qr_scans", verbose_name=_("account")
    )
    scene = models.ForeignKey(QRScene, on_delete=models.CASCADE, related_name="scans", verbose_name=_("QR code"))
    inbound = models.OneToOneField(
        "inbound.InboundMessage",
        on_delete=models.CASCADE,
        related_name="qr_scan",
        verbose_name=_("inbound event"),
    )
    openid = models.CharField(_("follower OpenID"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    scanned_at = models.DateTimeField(_("scanned at"))
    tags_added = models.JSONField(_("tags added"), default=list, blank=True)
    reply = models.CharField(_("reply"), max_length=16, choices=Reply.choices, blank=True, default=Reply.NONE)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("QR scan (扫码记录)")
        verbose_name_plural = _("QR scans (扫码记录)")
        ordering = ["-scanned_at", "-id"]
        indexes = [models.Index(fields=["scene", "scanned_at"], name="qr_scan_scene_day_idx")]

    def __str__(self):
        return f"{self.scene_id}:{self.openid}:{self.kind}"
