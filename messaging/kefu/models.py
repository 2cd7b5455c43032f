"""Customer service (客服): kf accounts, conversations with followers and the messages operators send."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wechat.errors import describe
from wechat.models import WeChatSynced


class KfAccount(WeChatSynced):
    """A customer-service account (客服帐号) of an official account, mirrored from WeChat."""

    MAX_PER_ACCOUNT = 100
    MAX_NICKNAME_CHARS = 16

    class InviteStatus(models.TextChoices):
        NONE = "", _("not invited")
        WAITING = "waiting", _("waiting for the worker (待确认)")
        REJECTED = "rejected", _("rejected (已拒绝)")
        EXPIRED = "expired", _("expired (已过期)")

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="kf_accounts", verbose_name=_("account")
    )
    kf_account = models.CharField(
        _("kf account (客服帐号)"),
        max_length=64,
        help_text=_("prefix@weixin-id of the official account, e.g. support1@gh_123 (prefix: up to 10 letters, digits or _)."),
    )
    nickname = models.CharField(_("nickname (客服昵称)"), max_length=16)
    kf_id = models.CharField(_("kf id (工号)"), max_length=32, blank=True)
    headimg_url = models.URLField(_("avatar URL"), max_length=500, blank=True)
    avatar = models.FileField(
        _("avatar (头像)"),
        upload_to="kf_avatars/",
        blank=True,
        help_text=_("A JPEG image, ideally 640×640. It is uploaded to WeChat on the next sync."),
    )
    avatar_pending = models.BooleanField(_("avatar waiting for upload"), default=False)
    kf_wx = models.CharField(_("bound WeChat ID (绑定微信号)"), max_length=64, blank=True)
    invite_wx = models.CharField(
        _("invite WeChat ID (邀请绑定)"),
        max_length=64,
        blank=True,
        help_text=_("The personal WeChat ID of the worker to invite; they confirm the invitation in WeChat."),
    )
    invite_pending = models.BooleanField(_("invitation waiting to be sent"), default=False)
    invite_status = models.CharField(_("invitation status"), max_length=16, choices=InviteStatus.choices, blank=True)
    invite_expire_time = models.DateTimeField(_("invitation expires at"), null=True, blank=True)
    online_status = models.PositiveSmallIntegerField(
        _("online status"), default=0, help_text=_("0 offline, 1 web client online (WeChat's getonlinekflist).")
    )
    accepted_case = models.PositiveIntegerField(_("open sessions"), default=0)
    exists_at_wechat = models.BooleanField(_("created at WeChat"), default=False)
    delete_requested = models.BooleanField(_("deletion requested"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "messaging_kfaccount"
        verbose_name = _("KF account (客服帐号)")
        verbose_name_plural = _("KF accounts (客服帐号)")
        ordering = ["account", "kf_account"]
        constraints = [models.UniqueConstraint(fields=["account", "kf_account"], name="uniq_kf_account_per_account")]

    def __str__(self):
        return f"{self.nickname} <{self.kf_account}>"


class Conversation(models.Model):
    """One follower's thread with the account: what the inbox lists, with its unread count."""

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="conversations", verbose_name=_("account")
    )
    openid = models.CharField(_("follower OpenID"), max_length=64)
    last_message_at = models.DateTimeField(_("last message"), db_index=True)
    last_preview = models.CharField(_("last message"), max_length=120, blank=True)
    last_from_follower = models.BooleanField(_("last message from the follower"), default=True)
    unread_count = models.PositiveIntegerField(_("unread"), default=0)
    last_read_at = models.DateTimeField(_("last read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "messaging_conversation"
        verbose_name = _("conversation (客服消息)")
        verbose_name_plural = _("customer-service inbox (客服消息)")
        ordering = ["-last_message_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "openid"], name="uniq_conversation_per_follower")]
        indexes = [models.Index(fields=["account", "-last_message_at"], name="conversation_inbox_idx")]

    def __str__(self):
        return self.openid


class OutboundMessage(models.Model):
    """A customer-service message (message/custom/send) to one follower, from an operator or an auto-reply."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        # No answer from WeChat: it may or may not have been delivered; never resent automatically.
        UNKNOWN = "unknown", _("unknown (no answer from WeChat)")

    class Source(models.TextChoices):
        OPERATOR = "operator", _("operator")
        AUTO_REPLY = "auto_reply", _("auto-reply")

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="outbound_messages", verbose_name=_("account")
    )
    openid = models.CharField(_("follower OpenID"), max_length=64)
    msgtype = models.CharField(_("message type"), max_length=32)
    payload = models.JSONField(_("message body"), default=dict, help_text=_("WeChat's body without touser."))
    kf_account = models.CharField(_("kf account (客服帐号)"), max_length=64, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator"),
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.AUTO_REPLY)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The Celery task that recorded it: a redelivered task finds its row instead of recording (and sending) again.
    task_id = models.CharField(_("task id"), max_length=64, blank=True, db_index=True)
    errcode = models.IntegerField(_("errcode"), null=True, blank=True)
    errmsg = models.CharField(_("errmsg"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        db_table = "messaging_outboundmessage"
        verbose_name = _("customer-service message (客服消息)")
        verbose_name_plural = _("customer-service message log (客服消息记录)")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "openid", "-created_at"], name="outbound_thread_idx")]

    def __str__(self):
        return f"{self.openid} {self.msgtype} {self.status}"

    @property
    def error_info(self):

        return describe(self.errcode) if self.errcode else None
