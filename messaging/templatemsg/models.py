"""Template messages (模板消息): the account's templates, single sends and group pushes (API.md §9)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wechat.models import WeChatSynced


class MessageTemplate(WeChatSynced):
    """A private template of the account (我的模板), as pulled from or added to WeChat."""

    MAX_PER_ACCOUNT = 25

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="message_templates", verbose_name=_("account")
    )
    template_id = models.CharField(_("template ID"), max_length=64)
    template_id_short = models.CharField(_("library number (编号)"), max_length=64, blank=True)
    title = models.CharField(_("title"), max_length=128, blank=True)
    primary_industry = models.CharField(_("primary industry"), max_length=64, blank=True)
    deputy_industry = models.CharField(_("deputy industry"), max_length=64, blank=True)
    content = models.TextField(_("content"), blank=True)
    example = models.TextField(_("example"), blank=True)
    keywords = models.JSONField(
        _("keywords"), default=list, blank=True, help_text=_("Keyword names parsed from the content, e.g. keyword1, thing2.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "messaging_messagetemplate"
        verbose_name = _("message template (模板)")
        verbose_name_plural = _("message templates (模板消息 · 我的模板)")
        ordering = ["account", "title", "id"]
        constraints = [models.UniqueConstraint(fields=["account", "template_id"], name="uniq_message_template_per_account")]

    def __str__(self):
        return self.title or self.template_id


class TemplateTarget(models.Model):
    """What a template message shows and opens: data, and an optional web page or mini-program page."""

    data = models.JSONField(_("data"), default=dict, help_text=_('{"keyword1": {"value": "…"}, …}'))
    url = models.URLField(_("link URL"), max_length=1024, blank=True)
    miniprogram_appid = models.CharField(_("mini-program AppID"), max_length=64, blank=True)
    miniprogram_pagepath = models.CharField(_("mini-program page path"), max_length=512, blank=True)

    class Meta:
        abstract = True


class TemplatePush(TemplateTarget):
    """A template message pushed to a group of followers (定时模板消息推送)."""

    class Audience(models.TextChoices):
        TAG = "tag", _("Followers with a tag (标签)")
        ALL = "all", _("All subscribed followers (全部粉丝)")
        OPENIDS = "openids", _("An OpenID list")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft (草稿)")
        SCHEDULED = "scheduled", _("scheduled (待发送)")
        SENDING = "sending", _("sending (发送中)")
        SENT = "sent", _("sent (已发送)")
        STOPPED = "stopped", _("stopped (已暂停)")
        CANCELLED = "cancelled", _("cancelled (已取消)")

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="template_pushes", verbose_name=_("account")
    )
    name = models.CharField(_("name"), max_length=100)
    template = models.ForeignKey(MessageTemplate, on_delete=models.RESTRICT, related_name="pushes", verbose_name=_("template"))
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices, default=Audience.TAG)
    tag = models.ForeignKey(
        "followers.Tag", on_delete=models.SET_NULL, null=True, blank=True, related_name="template_pushes", verbose_name=_("tag")
    )
    openids = models.JSONField(_("OpenIDs"), default=list, blank=True)
    scheduled_at = models.DateTimeField(_("send at"), db_index=True)
    rate_limit = models.PositiveIntegerField(_("rate limit (messages/s)"), default=500)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    expanded = models.BooleanField(_("audience expanded"), default=False)
    total = models.PositiveIntegerField(_("receivers"), default=0)
    sent_count = models.PositiveIntegerField(_("sent"), default=0)
    success_count = models.PositiveIntegerField(_("delivered"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    last_error = models.CharField(_("last WeChat error"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)

    class Meta:
        db_table = "messaging_templatepush"
        verbose_name = _("template push (模板消息群发)")
        verbose_name_plural = _("template pushes (定时模板消息推送)")
        ordering = ["-scheduled_at", "-id"]

    EDITABLE = (Status.DRAFT, Status.SCHEDULED)

    def __str__(self):
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class TemplateMessage(TemplateTarget):
    """One template message to one follower; ``client_msg_id`` makes its send idempotent at WeChat."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued (排队中)")
        SENDING = "sending", _("sending (发送中)")
        SENT = "sent", _("sent, awaiting result (已发送)")
        SUCCESS = "success", _("delivered (送达成功)")
        FAILED_USER_BLOCK = "failed_user_block", _("blocked by the user (用户拒收)")
        FAILED_SYSTEM = "failed_system", _("failed at WeChat (系统原因失败)")
        FAILED = "failed", _("failed (发送失败)")

    FINAL_STATUSES = (Status.SUCCESS, Status.FAILED_USER_BLOCK, Status.FAILED_SYSTEM, Status.FAILED)

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="template_messages", verbose_name=_("account")
    )
    openid = models.CharField(_("follower OpenID"), max_length=64)
    template = models.ForeignKey(
        MessageTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("template"),
    )
    wechat_template_id = models.CharField(_("template ID"), max_length=64)
    client_msg_id = models.CharField(_("client_msg_id (防重入 id)"), max_length=32)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    msgid = models.CharField(_("MsgID"), max_length=32, blank=True)
    errcode = models.IntegerField(_("errcode"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)
    push = models.ForeignKey(
        TemplatePush, on_delete=models.CASCADE, null=True, blank=True, related_name="messages", verbose_name=_("push")
    )
    attempts = models.PositiveSmallIntegerField(_("send attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("result at"), null=True, blank=True)

    class Meta:
        db_table = "messaging_templatemessage"
        verbose_name = _("template message (模板消息)")
        verbose_name_plural = _("template messages (模板消息)")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "client_msg_id"], name="uniq_template_client_msg_id"),
        ]
        indexes = [
            models.Index(fields=["account", "msgid"], name="template_msg_msgid_idx"),
            models.Index(fields=["push", "status"], name="template_msg_push_status_idx"),
            models.Index(fields=["account", "-created_at"], name="template_msg_recent_idx"),
            # A follower's conversation page lists the template messages sent to them, newest first.
            models.Index(fields=["account", "openid", "-created_at"], name="template_msg_thread_idx"),
        ]

    def __str__(self):
        return f"{self.openid} · {self.client_msg_id}"
