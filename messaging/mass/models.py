"""Mass sends (群发): the message, one row per WeChat call (batch), and the audit trail of its states."""

from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from wechat.errors import describe


class MassMessage(models.Model):
    """One mass send as the operator composed it. Batches are created when it starts sending."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft (草稿)")
        SCHEDULED = "scheduled", _("Scheduled (定时)")
        SENDING = "sending", _("Sending (发送中)")
        SENT = "sent", _("Sent (已发送)")
        PARTIALLY_FAILED = "partially_failed", _("Partially failed (部分失败)")
        FAILED = "failed", _("Failed (发送失败)")
        CANCELLED = "cancelled", _("Cancelled (已取消)")

    class MsgType(models.TextChoices):
        TEXT = "text", _("Text (文字)")
        IMAGE = "image", _("Image(s) (图片)")
        VOICE = "voice", _("Voice (语音)")
        VIDEO = "mpvideo", _("Video (视频)")
        MPNEWS = "mpnews", _("Article (图文)")
        CARD = "wxcard", _("Card (卡券)")

    class Audience(models.TextChoices):
        ALL = "all", _("All followers (全部用户)")
        TAG = "tag", _("One tag (按标签)")
        OPENIDS = "openids", _("OpenID list (按 OpenID)")
        FILTER = "filter", _("Saved follower filter (粉丝筛选)")

    TERMINAL = (Status.SENT, Status.PARTIALLY_FAILED, Status.FAILED, Status.CANCELLED)
    EDITABLE = (Status.DRAFT, Status.SCHEDULED)

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="mass_messages", verbose_name=_("account")
    )
    title = models.CharField(_("internal title"), max_length=120, help_text=_("Only shown in this back office."))
    msgtype = models.CharField(_("message type"), max_length=16, choices=MsgType.choices, default=MsgType.TEXT)
    content = models.TextField(_("text"), blank=True)
    media_id = models.CharField(
        _("media_id"), max_length=128, blank=True, help_text=_("Voice, video (mpvideo) or the article's draft media_id.")
    )
    media_ids = models.JSONField(_("image media_ids"), default=list, blank=True)
    recommend = models.CharField(_("recommendation text"), max_length=300, blank=True)
    need_open_comment = models.BooleanField(_("open comments (打开评论)"), default=False)
    only_fans_can_comment = models.BooleanField(_("only followers may comment"), default=False)
    video_title = models.CharField(_("video title"), max_length=64, blank=True)
    video_description = models.CharField(_("video description"), max_length=120, blank=True)
    card_id = models.CharField(_("card_id"), max_length=64, blank=True)
    send_ignore_reprint = models.BooleanField(
        _("send even if judged a reprint (转载仍群发)"),
        default=False,
        help_text=_("WeChat's send_ignore_reprint: without it an article judged a reprint is not sent."),
    )

    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices, default=Audience.ALL)
    tag = models.ForeignKey(
        "followers.Tag",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mass_messages",
        verbose_name=_("tag"),
    )
    openids = models.JSONField(_("OpenIDs"), default=list, blank=True, help_text=_("Normalised: unique, in upload order."))
    follower_filter = models.JSONField(
        _("follower filter"),
        default=dict,
        blank=True,
        help_text=_("Keys: tag (local tag id), subscribe_scene, subscribed_after, subscribed_before (YYYY-MM-DD)."),
    )

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True, db_index=True)
    # Part of every clientmsgid; a deliberate resend of failed batches takes the next version.
    version = models.PositiveIntegerField(_("version"), default=1)
    recurring_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mass_template",
        verbose_name=_("recurrence (定期群发)"),
        help_text=_("Each run copies this message into a new mass send."),
    )
    cloned_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="runs", verbose_name=_("copied from")
    )
    errcode = models.IntegerField(_("errcode"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    started_at = models.DateTimeField(_("sending started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        db_table = "messaging_massmessage"
        verbose_name = _("mass message (群发消息)")
        verbose_name_plural = _("mass messages (群发消息)")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="mass_due_idx")]

    def __str__(self):
        return self.title

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class MassBatch(models.Model):
    """One call to mass/sendall or mass/send. Its clientmsgid is fixed before the call, so a retry is idempotent."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Calling WeChat")
        SUBMITTED = "submitted", _("Accepted by WeChat")
        FINISHED = "finished", _("Finished (任务完成)")
        FAILED = "failed", _("Rejected by WeChat")
        # No answer we can trust (timeout, dropped connection, killed worker): WeChat may have sent it.
        UNKNOWN = "unknown", _("Outcome unknown")
        CANCELLED = "cancelled", _("Cancelled")

    OK = (Status.SUBMITTED, Status.FINISHED)
    # Unknown batches settle only once past SAME_ID_RESEND_WITHIN (see ``same_id_resend_open``).
    SETTLED = (Status.SUBMITTED, Status.FINISHED, Status.FAILED, Status.CANCELLED)

    # WeChat checks a clientmsgid against its mass sends of the last 24 hours (official Batch_Sends doc).
    CLIENTMSGID_WINDOW = timedelta(hours=24)
    # How long after our first call with a clientmsgid we still repeat it on our own: an hour inside the window.
    SAME_ID_RESEND_WITHIN = CLIENTMSGID_WINDOW - timedelta(hours=1)

    message = models.ForeignKey(MassMessage, on_delete=models.CASCADE, related_name="batches", verbose_name=_("mass message"))
    index = models.PositiveIntegerField(_("batch"))
    clientmsgid = models.CharField(_("clientmsgid"), max_length=32, unique=True)
    openids = models.JSONField(_("OpenIDs"), default=list, blank=True)
    tag_wechat_id = models.IntegerField(_("WeChat tag id"), null=True, blank=True)
    recipients = models.PositiveIntegerField(_("audience size"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(_("calls made"), default=0)
    first_called_at = models.DateTimeField(
        _("first call with this clientmsgid"),
        null=True,
        blank=True,
        help_text=_("WeChat remembers a clientmsgid for 24 hours; a repeat within that window cannot send twice."),
    )
    outcome_unknown = models.BooleanField(
        _("a call may have taken effect"),
        default=False,
        help_text=_("A call with this clientmsgid timed out or was cut off, so WeChat may have sent it."),
    )
    # While sending: the worker's lease. While pending: when it may next be (re)enqueued.
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True, db_index=True)
    msg_id = models.CharField(_("msg_id"), max_length=32, blank=True, db_index=True)
    msg_data_id = models.CharField(_("msg_data_id"), max_length=32, blank=True)
    errcode = models.IntegerField(_("errcode"), null=True, blank=True)
    errmsg = models.CharField(_("errmsg"), max_length=255, blank=True)
    job_status = models.CharField(_("job status"), max_length=64, blank=True, help_text=_("Status of MASSSENDJOBFINISH."))
    msg_status = models.CharField(_("mass/get status"), max_length=32, blank=True)
    total_count = models.PositiveIntegerField(_("TotalCount"), null=True, blank=True)
    filter_count = models.PositiveIntegerField(_("FilterCount"), null=True, blank=True)
    sent_count = models.PositiveIntegerField(_("SentCount"), null=True, blank=True)
    error_count = models.PositiveIntegerField(_("ErrorCount"), null=True, blank=True)
    check_state = models.PositiveSmallIntegerField(_("copyright CheckState"), null=True, blank=True)
    copyright_results = models.JSONField(_("copyright check results"), default=list, blank=True)
    article_urls = models.JSONField(_("article URLs"), default=list, blank=True)
    submitted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    polled_at = models.DateTimeField(_("last mass/get"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("article deleted at"), null=True, blank=True)

    class Meta:
        db_table = "messaging_massbatch"
        verbose_name = _("mass send batch")
        verbose_name_plural = _("mass send batches")
        ordering = ["message", "index"]
        constraints = [models.UniqueConstraint(fields=["message", "index"], name="uniq_mass_batch_index")]

    def __str__(self):
        return self.clientmsgid

    @property
    def error_display(self) -> str:
        if not self.errcode:
            return ""
        info = describe(self.errcode)
        return f"{self.errcode}: {info.zh} / {info.en}"

    @property
    def same_id_resend_until(self):
        """Until when repeating this clientmsgid is safe (None before the first call)."""
        return self.first_called_at + self.SAME_ID_RESEND_WITHIN if self.first_called_at else None

    def same_id_resend_open(self, now) -> bool:
        return self.first_called_at is not None and now < self.same_id_resend_until


class MassMessageEvent(models.Model):
    """Audit trail: every state change of a mass message (and preview, retries, recoveries)."""

    message = models.ForeignKey(MassMessage, on_delete=models.CASCADE, related_name="events", verbose_name=_("mass message"))
    batch = models.ForeignKey(
        MassBatch, on_delete=models.CASCADE, null=True, blank=True, related_name="events", verbose_name=_("batch")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    old_status = models.CharField(_("from"), max_length=20, blank=True)
    new_status = models.CharField(_("to"), max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    actor_label = models.CharField(_("by (system)"), max_length=32, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        db_table = "messaging_massmessageevent"
        verbose_name = _("mass message event")
        verbose_name_plural = _("mass message events")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.status_label(self.old_status)} → {self.status_label(self.new_status)}"

    def status_label(self, value: str) -> str:
        """A stored state (``draft``, ``scheduled``…) as the admin names it; an unknown one as stored."""
        if not value:
            return "—"
        choices = MassBatch.Status if self.batch_id is not None else MassMessage.Status
        try:
            return str(choices(value).label)
        except ValueError:
            return value


# Shared by the mass and template-message send APIs (Idempotency-Key header).
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
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        db_table = "messaging_idempotencykey"
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="uniq_idempotency_key_per_account")]

    def __str__(self):
        return self.key
