"""Auto-reply rules (自动回复): what the callback answers, configured per official account."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AutoReplyRule(models.Model):
    class Trigger(models.TextChoices):
        SUBSCRIBE = "subscribe", _("Follow (被关注回复)")
        KEYWORD = "keyword", _("Keyword (关键词回复)")
        DEFAULT = "default", _("Any other message (收到消息回复)")
        CLICK = "click", _("Menu click (菜单点击)")
        SCAN = "scan", _("QR code scan (扫码)")
        UNSUBSCRIBE = "unsubscribe", _("Unfollow (取消关注), no reply")
        LOCATION = "location", _("Location report (上报地理位置), no reply")
        EVENT = "event", _("Other event, no reply")

    class MatchType(models.TextChoices):
        EXACT = "exact", _("Exact (全匹配)")
        CONTAINS = "contains", _("Contains (半匹配)")
        REGEX = "regex", _("Regular expression")

    class ReplyMode(models.TextChoices):
        ALL = "all", _("Reply all (回复全部)")
        RANDOM = "random", _("Random one (随机回复一条)")

    # Triggers WeChat lets us answer; the others exist for their side effects and the message log.
    REPLYING_TRIGGERS = frozenset({"subscribe", "keyword", "default", "click", "scan"})
    # Triggers fired by a follower's own message: a news reply may carry one article only (API.md §2.1).
    MESSAGE_TRIGGERS = frozenset({"keyword", "default"})

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="auto_reply_rules", verbose_name=_("account")
    )
    name = models.CharField(_("rule name (规则名称)"), max_length=60)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices, default=Trigger.KEYWORD)
    keywords = models.TextField(
        _("keywords (关键词)"),
        blank=True,
        help_text=_("One per line. Matching ignores case. For regular expressions, one pattern per line."),
    )
    match_type = models.CharField(_("match type"), max_length=16, choices=MatchType.choices, default=MatchType.EXACT)
    event_key = models.CharField(
        _("event key"),
        max_length=128,
        blank=True,
        help_text=_(
            "Menu clicks: the button key (e.g. V1001_TODAY_MUSIC). QR scans: the scene id or string, without 'qrscene_'. "
            "Other events: optional EventKey to require."
        ),
    )
    event_name = models.CharField(
        _("event name"),
        max_length=64,
        blank=True,
        help_text=_("Other events only: WeChat's event name, e.g. VIEW, scancode_push, location_select (any case)."),
    )
    reply_mode = models.CharField(_("reply mode"), max_length=8, choices=ReplyMode.choices, default=ReplyMode.ALL)
    priority = models.IntegerField(_("priority"), default=0, help_text=_("Higher numbers are tried first."))
    enabled = models.BooleanField(_("enabled"), default=True, db_index=True)
    active_from = models.TimeField(_("active from"), null=True, blank=True)
    active_until = models.TimeField(
        _("active until"),
        null=True,
        blank=True,
        help_text=_("Leave both empty for all day. A window may wrap midnight (22:00 – 06:00). Server time zone."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "messaging_autoreplyrule"
        verbose_name = _("auto-reply rule (自动回复)")
        verbose_name_plural = _("auto-reply rules (自动回复)")
        ordering = ["account", "-priority", "id"]
        indexes = [models.Index(fields=["account", "enabled"], name="autoreply_account_enabled_idx")]

    def __str__(self):
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return [line.strip() for line in self.keywords.splitlines() if line.strip()]

    @property
    def can_reply(self) -> bool:
        return self.trigger in self.REPLYING_TRIGGERS

    @property
    def max_news_articles(self) -> int:
        return 1 if self.trigger in self.MESSAGE_TRIGGERS else 8

    def clean(self):
        from .validation import rule_clean

        rule_clean(self)


class AutoReplyContent(models.Model):
    """One reply of a rule, in the rule's order. Media ids come from the account's material library."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text (文字)")
        IMAGE = "image", _("Image (图片)")
        VOICE = "voice", _("Voice (语音)")
        VIDEO = "video", _("Video (视频)")
        MUSIC = "music", _("Music (音乐)")
        NEWS = "news", _("Link article (图文)")
        TRANSFER = "transfer_customer_service", _("Transfer to customer service (转人工客服)")

    rule = models.ForeignKey(AutoReplyRule, on_delete=models.CASCADE, related_name="contents", verbose_name=_("rule"))
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    reply_type = models.CharField(_("reply type"), max_length=32, choices=Type.choices, default=Type.TEXT)
    text = models.TextField(_("text"), blank=True, help_text=_("Text replies. Links are HTML a tags with an https href."))
    media_id = models.CharField(_("media_id"), max_length=128, blank=True)
    title = models.CharField(_("title"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=512, blank=True)
    music_url = models.URLField(_("music URL"), max_length=512, blank=True)
    hq_music_url = models.URLField(_("HQ music URL"), max_length=512, blank=True)
    thumb_media_id = models.CharField(_("thumbnail media_id"), max_length=128, blank=True)
    articles = models.JSONField(
        _("articles"),
        default=list,
        blank=True,
        help_text=_('News only: [{"title": "…", "description": "…", "url": "https://…", "picurl": "https://…"}]'),
    )
    kf_account = models.CharField(
        _("customer-service account"), max_length=64, blank=True, help_text=_("Optional, e.g. test1@test; empty: any agent.")
    )

    class Meta:
        db_table = "messaging_autoreplycontent"
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["rule", "position", "id"]

    def __str__(self):
        return f"{self.get_reply_type_display()} #{self.position}"

    def clean(self):
        from .validation import content_clean

        if self.articles is None:
            self.articles = []
        content_clean(self)


class AutoReplyVersion(models.Model):
    """Bumped on every rule change, so every process rebuilds its compiled rules for the account."""

    account = models.OneToOneField(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="auto_reply_version", primary_key=True
    )
    version = models.CharField(max_length=32)

    class Meta:
        db_table = "messaging_autoreplyversion"
        verbose_name = _("auto-reply rules version")
        verbose_name_plural = _("auto-reply rules versions")

    def __str__(self):
        return self.version
