"""The media library (API.md §5): temporary media (3-day media_id) and permanent materials (永久素材)."""

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wechat.models import WeChatSynced

from .base import Queued, Uploaded, author_field


class MediaKind(models.TextChoices):
    """WeChat's ``type`` of a media file, for both temporary media and permanent materials."""

    IMAGE = "image", _("image (图片)")
    VOICE = "voice", _("voice (语音)")
    VIDEO = "video", _("video (视频)")
    THUMB = "thumb", _("thumbnail (缩略图)")


class Material(WeChatSynced, Uploaded):
    """A permanent material (永久素材): a file in the account's WeChat library, kept locally with its media_id.

    ``media_id`` is empty until the upload succeeded. A material pulled from WeChat may have no local file
    (voice and video are not downloaded); images carry WeChat's ``url``. ``removed_on_wechat_at`` is set when
    WeChat no longer knows the media_id (deleted in the WeChat console, found by a pull or a 40007).
    """

    Kind = MediaKind

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="materials", verbose_name=_("account")
    )
    kind = models.CharField(_("type"), max_length=8, choices=MediaKind.choices, db_index=True)
    file = models.FileField(_("file"), upload_to="materials/%Y/%m/", max_length=255, blank=True)
    name = models.CharField(_("file name"), max_length=255, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    # Videos only: WeChat requires a title (≤ 64 bytes is not documented; we keep 64 characters) and takes an introduction.
    title = models.CharField(_("title"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    media_id = models.CharField(_("media_id"), max_length=128, blank=True, db_index=True)
    # Returned for images only; usable only on Tencent domains.
    url = models.URLField(_("WeChat URL"), max_length=1024, blank=True)
    wechat_update_time = models.DateTimeField(_("updated on WeChat"), null=True, blank=True)
    removed_on_wechat_at = models.DateTimeField(_("removed on WeChat at"), null=True, blank=True)

    class Meta:
        verbose_name = _("material (永久素材)")
        verbose_name_plural = _("materials (永久素材)")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "media_id"], condition=~models.Q(media_id=""), name="uniq_material_media_id_per_account"
            )
        ]
        indexes = [models.Index(fields=["account", "kind", "-created_at"], name="material_account_kind")]

    def __str__(self):
        return self.title or self.name or self.media_id or f"{self.get_kind_display()} #{self.pk}"

    @property
    def usable(self) -> bool:
        """On WeChat and not known to be removed there: may be named in a message."""
        return bool(self.media_id) and self.removed_on_wechat_at is None


class TemporaryMedia(WeChatSynced, Uploaded):
    """A temporary media file (临时素材): uploaded by us (valid 3 days) or sent by a follower and downloaded.

    The local file is the source of truth: once ``expires_at`` passes, the next use uploads it again
    (``media_assets.services.temporary.media_id_for_use``) and stores the new media_id and expiry.
    """

    Kind = MediaKind
    LIFETIME = timedelta(days=3)

    class Origin(models.TextChoices):
        UPLOADED = "uploaded", _("uploaded by us")
        RECEIVED = "received", _("sent by a follower")

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="temporary_media", verbose_name=_("account")
    )
    kind = models.CharField(_("type"), max_length=8, choices=MediaKind.choices, db_index=True)
    origin = models.CharField(_("origin"), max_length=16, choices=Origin.choices, default=Origin.UPLOADED, db_index=True)
    file = models.FileField(_("file"), upload_to="temporary/%Y/%m/", max_length=255, blank=True)
    name = models.CharField(_("file name"), max_length=255, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    media_id = models.CharField(_("media_id"), max_length=128, blank=True, db_index=True)
    # A video that WeChat hands out as a link (media/get answers {"video_url": …}) instead of bytes.
    video_url = models.URLField(_("video URL"), max_length=1024, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("temporary media (临时素材)")
        verbose_name_plural = _("temporary media (临时素材)")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "media_id"], condition=~models.Q(media_id=""), name="uniq_temporary_media_id_per_account"
            )
        ]

    def __str__(self):
        return self.name or self.media_id or f"{self.get_kind_display()} #{self.pk}"

    def is_expired(self, *, now=None) -> bool:
        """True when WeChat no longer holds the media_id (or never did)."""
        if not self.media_id or self.expires_at is None:
            return True
        return self.expires_at <= (now or timezone.now())


class MaterialPullJob(Queued):
    """One pull of the account's material library (batchget_material), with progress and a resumable cursor.

    The pull walks ``PULL_KINDS`` in order, 20 items a page; ``current_kind`` + ``offset`` say where the
    next page starts, so a failed or interrupted job resumes there. At most one job per account is active.
    """

    PULL_KINDS = (MediaKind.IMAGE, MediaKind.VOICE, MediaKind.VIDEO)

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="material_pull_jobs", verbose_name=_("account")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    total = models.PositiveIntegerField(_("total (per WeChat)"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    created = models.PositiveIntegerField(_("new"), default=0)
    current_kind = models.CharField(_("current type"), max_length=8, choices=MediaKind.choices, blank=True)
    offset = models.PositiveIntegerField(_("offset in type"), default=0)
    attempt = models.PositiveIntegerField(_("attempt"), default=0)
    errcode = models.IntegerField(_("errcode"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)
    created_by = author_field(_("started by"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)

    class Meta:
        verbose_name = _("material pull (素材同步)")
        verbose_name_plural = _("material pulls (素材同步)")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=models.Q(status__in=["queued", "running"]), name="uniq_active_material_pull"
            )
        ]

    def __str__(self):
        return f"{self._meta.verbose_name} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0
