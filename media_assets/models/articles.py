"""Articles (API.md §5): drafts in the draft box (草稿箱), publish jobs (发布), published articles and their comments (留言).

``material/add_news`` is gone: an article is written as a ``Draft`` of ordered ``Article`` rows, saved to WeChat with
draft/add (draft/update per article), published with freepublish/submit (a ``PublishJob``, finished by the
PUBLISHJOBFINISH event or by polling freepublish/get) and then exists as ``PublishedArticle`` rows.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from wechat.models import WeChatSynced

from .base import Authored, Queued, author_field


class Draft(WeChatSynced, Authored):
    """A draft: its articles are edited here, then saved to WeChat (``media_id``) and published from there."""

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="drafts", verbose_name=_("account")
    )
    media_id = models.CharField(_("media_id"), max_length=128, blank=True, db_index=True)
    wechat_update_time = models.DateTimeField(_("updated on WeChat"), null=True, blank=True)
    # Set when the draft left WeChat's draft box by being published; its media_id still names the articles in mass sends.
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    removed_on_wechat_at = models.DateTimeField(_("removed on WeChat at"), null=True, blank=True)

    class Meta:
        verbose_name = _("draft (草稿)")
        verbose_name_plural = _("drafts (草稿箱)")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "media_id"], condition=~models.Q(media_id=""), name="uniq_draft_media_id_per_account"
            )
        ]

    def __str__(self):
        first = self.articles.order_by("position", "id").first() if self.pk else None
        return first.title if first else _("Draft #%(id)s") % {"id": self.pk}


class Article(models.Model):
    """One article of a draft, in the draft's order (``position`` from 0, WeChat's ``index``)."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="articles", verbose_name=_("draft"))
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("title"), max_length=64)
    author = models.CharField(_("author"), max_length=16, blank=True)
    digest = models.CharField(
        _("digest"),
        max_length=120,
        blank=True,
        help_text=_("Shown for single-article drafts; WeChat uses the first 54 characters when empty."),
    )
    content = models.TextField(_("content"), help_text=_("HTML; scripts, frames and event attributes are not allowed."))
    content_source_url = models.URLField(_("original article URL (阅读原文)"), max_length=1024, blank=True)
    cover = models.ForeignKey(
        "media_assets.Material",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="article_covers",
        verbose_name=_("cover (封面)"),
        limit_choices_to={"kind__in": ["image", "thumb"]},
    )
    # WeChat's thumb_media_id, kept as pulled even when the material is not in the library.
    thumb_media_id = models.CharField(_("cover media_id"), max_length=128, blank=True)
    show_cover = models.BooleanField(_("show the cover in the article"), default=False)
    need_open_comment = models.BooleanField(_("open comments (留言)"), default=False)
    only_fans_can_comment = models.BooleanField(_("only followers may comment"), default=False)
    url = models.URLField(_("preview URL on WeChat"), max_length=1024, blank=True)

    class Meta:
        verbose_name = _("article (图文)")
        verbose_name_plural = _("articles (图文)")
        ordering = ["draft", "position", "id"]

    def __str__(self):
        return self.title


class PublishJob(Queued):
    """One freepublish/submit of a draft and its outcome (PUBLISHJOBFINISH, or freepublish/get when no event came)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SUBMITTING = "submitting", _("submitting")
        PUBLISHING = "publishing", _("publishing (发布中)")
        PUBLISHED = "published", _("published (发布成功)")
        ORIGINAL_FAILED = "original_failed", _("original check failed (原创校验失败)")
        FAILED = "failed", _("failed (发布失败)")
        AUDIT_REJECTED = "audit_rejected", _("audit rejected (审核不通过)")
        DELETED = "deleted", _("deleted by the account (已删除)")
        BANNED = "banned", _("banned (已封禁)")
        REFUSED = "refused", _("refused by WeChat (提交失败)")

    # publish_status (API.md §2) → status
    FROM_WECHAT = {
        0: Status.PUBLISHED,
        1: Status.PUBLISHING,
        2: Status.ORIGINAL_FAILED,
        3: Status.FAILED,
        4: Status.AUDIT_REJECTED,
        5: Status.DELETED,
        6: Status.BANNED,
    }
    WAITING = (Status.QUEUED, Status.SUBMITTING, Status.PUBLISHING)

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="publish_jobs", verbose_name=_("account")
    )
    draft = models.ForeignKey(
        Draft, on_delete=models.SET_NULL, null=True, blank=True, related_name="publish_jobs", verbose_name=_("draft")
    )
    media_id = models.CharField(_("draft media_id"), max_length=128, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    publish_id = models.CharField(_("publish_id"), max_length=64, blank=True, db_index=True)
    msg_data_id = models.CharField(_("msg_data_id"), max_length=64, blank=True)
    article_id = models.CharField(_("article_id"), max_length=128, blank=True, db_index=True)
    fail_idx = models.JSONField(_("failed articles (from 1)"), default=list, blank=True)
    errcode = models.IntegerField(_("errcode"), null=True, blank=True)
    last_error = models.CharField(_("last WeChat error"), max_length=255, blank=True)
    result_from = models.CharField(_("result from"), max_length=16, blank=True)  # "event" or "poll"
    created_by = author_field(_("published by"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("publish job (发布记录)")
        verbose_name_plural = _("publish jobs (发布记录)")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "submitted_at"], name="publishjob_status_submitted")]

    def __str__(self):
        return f"{self._meta.verbose_name} #{self.pk}"


class PublishedArticle(WeChatSynced):
    """A published article (``article_id`` + ``index`` from 1). ``sync_status`` is that of its comment switch."""

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="published_articles", verbose_name=_("account")
    )
    job = models.ForeignKey(
        PublishJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="articles", verbose_name=_("publish job")
    )
    article_id = models.CharField(_("article_id"), max_length=128)
    index = models.PositiveSmallIntegerField(_("index (from 1)"))
    # Of the publish (freepublish/submit); comments name an article by it. Empty for items pulled from WeChat.
    msg_data_id = models.CharField(_("msg_data_id"), max_length=64, blank=True)
    draft_media_id = models.CharField(_("draft media_id"), max_length=128, blank=True)
    title = models.CharField(_("title"), max_length=64)
    author = models.CharField(_("author"), max_length=16, blank=True)
    digest = models.CharField(_("digest"), max_length=255, blank=True)
    url = models.URLField(_("article URL"), max_length=1024, blank=True)
    thumb_media_id = models.CharField(_("cover media_id"), max_length=128, blank=True)
    cover_url = models.URLField(_("cover URL"), max_length=1024, blank=True)
    comments_open = models.BooleanField(_("comments open"), default=False)
    only_fans_can_comment = models.BooleanField(_("only followers may comment"), default=False)
    is_deleted = models.BooleanField(_("deleted"), default=False, db_index=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)
    comments_pulled_at = models.DateTimeField(_("comments pulled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("published article (已发布)")
        verbose_name_plural = _("published articles (已发布)")
        ordering = ["-published_at", "article_id", "index"]
        constraints = [models.UniqueConstraint(fields=["account", "article_id", "index"], name="uniq_published_article")]

    def __str__(self):
        return self.title


class ArticleComment(WeChatSynced):
    """A follower's comment on a published article, with the account's reply; ``is_new`` until an operator saw it."""

    article = models.ForeignKey(PublishedArticle, on_delete=models.CASCADE, related_name="comments", verbose_name=_("article"))
    user_comment_id = models.PositiveIntegerField(_("comment id"))
    openid = models.CharField(_("follower OpenID"), max_length=64)
    content = models.TextField(_("comment"))
    commented_at = models.DateTimeField(_("commented at"), null=True, blank=True)
    elected = models.BooleanField(_("elected (精选)"), default=False)
    reply = models.TextField(_("reply"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    is_deleted = models.BooleanField(_("deleted"), default=False)
    is_new = models.BooleanField(_("new"), default=True)
    pulled_at = models.DateTimeField(_("pulled at"), auto_now_add=True)

    class Meta:
        verbose_name = _("comment (留言)")
        verbose_name_plural = _("comments (留言)")
        ordering = ["-commented_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["article", "user_comment_id"], name="uniq_article_comment")]
        indexes = [models.Index(fields=["is_new", "-commented_at"], name="comment_inbox_idx")]

    def __str__(self):
        return self.content[:40]


class ArticleImage(models.Model):
    """An image inside article HTML, uploaded with media/uploadimg; ``url`` is WeChat's, used in the saved content."""

    account = models.ForeignKey(
        "accounts.OfficialAccount", on_delete=models.CASCADE, related_name="article_images", verbose_name=_("account")
    )
    file = models.ImageField(_("file"), upload_to="article-images/%Y/%m/", max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    url = models.URLField(_("WeChat URL"), max_length=1024, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("article image (图文内图片)")
        verbose_name_plural = _("article images (图文内图片)")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "sha256"], name="uniq_article_image_per_account")]

    def __str__(self):
        return self.file.name.rsplit("/", 1)[-1]
