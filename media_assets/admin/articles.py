"""Admin for drafts (草稿箱), publish jobs (发布记录), published articles (已发布), comments (留言) and article images."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_prose_editor.fields import ProseEditorFormField

from accounts.admin_base import (
    AccountScopedAdmin,
    ReadOnlyAdmin,
    StackedInline,
    TabularInline,
    account_scoped_filter,
    badge,
    sync_badge,
    wechat_error_message,
)
from accounts.selectors import accounts_for_user
from wechat.errors import WeChatError

from ..models import Article, ArticleComment, ArticleImage, Draft, Material, PublishedArticle, PublishJob
from ..selectors import material_display_url
from ..services import comments as comment_services
from ..services import drafts as draft_services
from ..services import publish as publish_services
from ..tasks import drafts_pull

EDITOR_EXTENSIONS = {
    "Bold": True,
    "Italic": True,
    "Underline": True,
    "Strike": True,
    "Heading": {"levels": [2, 3, 4]},
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Blockquote": True,
    "HorizontalRule": True,
    "HardBreak": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https"]},
    "Image": True,
    "Figure": True,  # the toolbar's image button: an image (by URL) with an optional caption
    "Caption": True,
    "History": True,
}

PUBLISH_COLOURS = {
    PublishJob.Status.PUBLISHED: "#2f855a",
    PublishJob.Status.PUBLISHING: "#2b6cb0",
    PublishJob.Status.SUBMITTING: "#2b6cb0",
    PublishJob.Status.QUEUED: "#b7791f",
}


class ArticleForm(forms.ModelForm):
    content = ProseEditorFormField(
        label=_("content"), config={"extensions": EDITOR_EXTENSIONS}, preset="configurable", required=True
    )

    class Meta:
        model = Article
        fields = [
            "position",
            "title",
            "author",
            "digest",
            "cover",
            "show_cover",
            "content",
            "content_source_url",
            "need_open_comment",
            "only_fans_can_comment",
        ]


def _kept_articles(formset) -> list:
    kept = [
        form
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE") and (form.instance.pk or form.has_changed())
    ]
    return sorted(kept, key=lambda form: form.cleaned_data.get("position") or 0)


def _inputs(formset) -> list[draft_services.ArticleInput]:
    names = ("title", "content", "cover", "author", "digest", "content_source_url", "show_cover")
    names += ("need_open_comment", "only_fans_can_comment")
    return [
        draft_services.ArticleInput(**{n: form.cleaned_data.get(n) or _empty(n) for n in names})
        for form in _kept_articles(formset)
    ]


def _empty(name: str):
    return None if name == "cover" else False if name in ("show_cover", "need_open_comment", "only_fans_can_comment") else ""


class ArticleFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        account = getattr(self.instance, "account", None) if self.instance.account_id else None
        if account is None:
            return  # the draft form reports the missing account
        try:
            draft_services.draft_articles_check(account=account, articles=_inputs(self))
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc


class ArticleInline(StackedInline):
    model = Article
    form = ArticleForm
    formset = ArticleFormSet
    extra = 1
    max_num = 8
    ordering = ["position", "id"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "cover":
            kwargs["queryset"] = (
                Material.objects.filter(account__in=accounts_for_user(request.user), kind__in=["image", "thumb"])
                .exclude(media_id="")
                .filter(removed_on_wechat_at__isnull=True)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PublishJobInline(TabularInline):
    model = PublishJob
    fields = ["status", "publish_id", "article_id", "fail_idx", "last_error", "submitted_at", "finished_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-id"]
    verbose_name_plural = _("publishing history")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Draft)
class DraftAdmin(AccountScopedAdmin):
    list_display = ["title", "article_count", "sync", "publish_state", "preview_link", "updated_at", "account"]
    list_filter = [account_scoped_filter("account"), "sync_status", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["articles__title", "media_id"]
    inlines = [ArticleInline, PublishJobInline]
    fields = ["account", "media_id", "sync", "preview_link", "published_at"]
    readonly_fields = ["media_id", "sync", "preview_link", "published_at"]
    actions = ["sync_selected", "publish_selected"]
    change_list_template = "admin/media_assets/draft/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account").prefetch_related("articles", "publish_jobs")

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "account"] if obj else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else [ArticleInline]

    def has_change_permission(self, request, obj=None):
        # WeChat no longer edits a published draft: it is shown, not changed.
        if obj is not None and obj.published_at is not None:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=_("title"))
    def title(self, obj):
        articles = sorted(obj.articles.all(), key=lambda a: (a.position, a.pk))  # the prefetched rows, no query each
        return articles[0].title if articles else str(obj)

    @admin.display(description=_("articles"))
    def article_count(self, obj):
        return len(obj.articles.all())

    @admin.display(description=_("sync"), ordering="sync_status")
    def sync(self, obj):
        return sync_badge(obj.sync_status, obj.get_sync_status_display(), obj.last_error)

    @admin.display(description=_("publishing"))
    def publish_state(self, obj):
        jobs = sorted(obj.publish_jobs.all(), key=lambda j: j.pk, reverse=True)
        if not jobs:
            return "—"
        job = jobs[0]
        return badge(PUBLISH_COLOURS.get(job.status, "#c53030"), job.get_status_display(), job.last_error)

    @admin.display(description=_("phone preview"))
    def preview_link(self, obj):
        if not obj or not obj.pk:
            return "—"
        url = reverse("admin:media_assets_draft_preview", args=[obj.pk])
        return format_html('<a href="{}" target="_blank" class="draft-preview-link">{}</a>', url, _("Phone preview"))

    def save_model(self, request, obj, form, change):
        # Saved with its articles in save_related, through the service.
        if not change:
            obj.created_by = request.user

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            # Nothing is saved through the formsets (the publish history is read-only); the change message reads these.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if isinstance(formset, ArticleFormSet):
                draft = form.instance if form.instance.pk else None
                saved = draft_services.draft_save(
                    account=form.instance.account, articles=_inputs(formset), draft=draft, actor=request.user
                )
                form.instance.pk = saved.pk

    def delete_model(self, request, obj):
        try:
            draft_services.draft_delete(draft=obj)
        except WeChatError as exc:
            wechat_error_message(request, exc, action=str(obj))

    def delete_queryset(self, request, queryset):
        for draft in queryset:
            self.delete_model(request, draft)

    @admin.action(description=_("Save selected drafts to WeChat again"))
    def sync_selected(self, request, queryset):
        for draft in queryset.filter(published_at__isnull=True):
            draft_services.draft_sync_enqueue(draft=draft)
        messages.success(request, _("The drafts will be saved to WeChat in a moment."))

    @admin.action(description=_("Publish selected drafts (发布)"))
    def publish_selected(self, request, queryset):
        for draft in queryset:
            try:
                publish_services.publish_request(draft=draft, actor=request.user)
            except ValidationError as exc:
                messages.error(request, f"{draft}: {' '.join(exc.messages)}")
            else:
                messages.success(request, _("%(draft)s: submitted for publishing.") % {"draft": draft})

    def get_urls(self):
        extra = [
            path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name="media_assets_draft_preview"),
            path("pull/", self.admin_site.admin_view(self.pull_view), name="media_assets_draft_pull"),
        ]
        return extra + super().get_urls()

    def preview_view(self, request, pk):
        draft = get_object_or_404(self.get_queryset(request), pk=pk)
        articles = list(draft.articles.select_related("cover").order_by("position", "id"))
        for article in articles:
            article.cover_src = material_display_url(article.cover) if article.cover else ""
        context = {**self.admin_site.each_context(request), "draft": draft, "articles": articles, "title": str(draft)}
        return TemplateResponse(request, "media_assets/draft_preview.html", context)

    def pull_view(self, request):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:media_assets_draft_changelist"))
        accounts = list(accounts_for_user(request.user).values_list("pk", flat=True))
        for account_id in accounts:
            transaction.on_commit(lambda account_id=account_id: drafts_pull.delay(account_id))
        messages.success(request, _("Pulling the draft boxes of %(n)d account(s) from WeChat.") % {"n": len(accounts)})
        return HttpResponseRedirect(reverse("admin:media_assets_draft_changelist"))


class PublishedArticleInline(TabularInline):
    model = PublishedArticle
    fields = ["index", "title", "url"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PublishJob)
class PublishJobAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "draft", "state", "publish_id", "article_id", "fail_idx", "result_from", "finished_at", "account"]
    list_filter = [account_scoped_filter("account"), "status"]
    search_fields = ["publish_id", "article_id", "media_id"]
    readonly_fields = [f.name for f in PublishJob._meta.fields]
    inlines = [PublishedArticleInline]
    actions = ["poll_selected"]

    @admin.display(description=_("status"), ordering="status")
    def state(self, obj):
        return badge(PUBLISH_COLOURS.get(obj.status, "#c53030"), obj.get_status_display(), obj.last_error)

    @admin.action(description=_("Ask WeChat for the result now (freepublish/get)"))
    def poll_selected(self, request, queryset):
        for job in queryset.filter(status=PublishJob.Status.PUBLISHING):
            try:
                publish_services.publish_job_poll(job_id=job.pk)
            except WeChatError as exc:
                wechat_error_message(request, exc, action=str(job))


class CommentInline(TabularInline):
    model = ArticleComment
    fields = ["content", "openid", "elected", "reply", "commented_at", "is_deleted"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-commented_at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PublishedArticle)
class PublishedArticleAdmin(ReadOnlyAdmin):
    inlines = [CommentInline]
    list_display = ["title", "index", "link", "comments", "sync", "is_deleted", "published_at", "account"]
    list_filter = [account_scoped_filter("account"), "comments_open", "is_deleted"]
    search_fields = ["title", "article_id"]
    readonly_fields = [f.name for f in PublishedArticle._meta.fields]
    actions = ["open_comments", "close_comments", "pull_comments", "delete_on_wechat"]
    change_list_template = "admin/media_assets/publishedarticle/change_list.html"

    @admin.display(description=_("URL"))
    def link(self, obj):
        return format_html('<a href="{}" target="_blank">{}</a>', obj.url, _("open")) if obj.url else "—"

    @admin.display(description=_("comments"), boolean=True, ordering="comments_open")
    def comments(self, obj):
        return obj.comments_open

    @admin.display(description=_("sync"), ordering="sync_status")
    def sync(self, obj):
        return sync_badge(obj.sync_status, obj.get_sync_status_display(), obj.last_error)

    def _each(self, request, queryset, run, done_message):
        done = 0
        for article in queryset:
            try:
                run(article)
            except WeChatError as exc:
                wechat_error_message(request, exc, action=str(article))
            except ValidationError as exc:
                messages.error(request, f"{article}: {' '.join(exc.messages)}")
            else:
                done += 1
        if done:
            messages.success(request, done_message % {"n": done})

    @admin.action(description=_("Open comments (开启留言)"))
    def open_comments(self, request, queryset):
        self._each(
            request, queryset, lambda a: comment_services.comments_switch(article=a, open=True), _("%(n)d article(s) changed.")
        )

    @admin.action(description=_("Close comments (关闭留言)"))
    def close_comments(self, request, queryset):
        self._each(
            request, queryset, lambda a: comment_services.comments_switch(article=a, open=False), _("%(n)d article(s) changed.")
        )

    @admin.action(description=_("Pull comments from WeChat"))
    def pull_comments(self, request, queryset):
        self._each(
            request, queryset, lambda a: comment_services.comments_pull(article=a), _("Comments of %(n)d article(s) pulled.")
        )

    @admin.action(description=_("Delete on WeChat (irreversible)"))
    def delete_on_wechat(self, request, queryset):
        self._each(
            request,
            queryset.filter(is_deleted=False),
            lambda a: publish_services.published_article_delete(article=a),
            _("%(n)d article(s) deleted."),
        )

    def get_urls(self):
        extra = [path("pull/", self.admin_site.admin_view(self.pull_view), name="media_assets_publishedarticle_pull")]
        return extra + super().get_urls()

    def pull_view(self, request):
        if request.method == "POST":
            for account in accounts_for_user(request.user):
                try:
                    n = publish_services.published_pull(account=account)
                except WeChatError as exc:
                    wechat_error_message(request, exc, action=str(account))
                else:
                    messages.success(request, _("%(account)s: %(n)d published article(s) pulled.") % {"account": account, "n": n})
        return HttpResponseRedirect(reverse("admin:media_assets_publishedarticle_changelist"))


class CommentReplyForm(forms.ModelForm):
    new_reply = forms.CharField(label=_("reply (回复)"), required=False, max_length=600, widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = ArticleComment
        fields = []


@admin.register(ArticleComment)
class ArticleCommentAdmin(AccountScopedAdmin):
    """The comments inbox: new comments across articles first; reply, elect or delete them."""

    account_field = "article__account"
    form = CommentReplyForm
    list_display = ["content_short", "article", "openid", "elected", "reply", "is_new", "sync", "commented_at"]
    list_filter = ["is_new", "elected", "is_deleted", account_scoped_filter("article__account")]
    search_fields = ["content", "reply", "openid", "article__title"]
    readonly_fields = ["article", "openid", "content", "commented_at", "elected", "reply", "replied_at", "is_deleted", "sync"]
    fields = [*readonly_fields, "new_reply"]
    actions = ["elect", "unelect", "delete_on_wechat", "mark_seen"]
    ordering = ["-is_new", "-commented_at", "-id"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("comment"))
    def content_short(self, obj):
        return obj.content[:60]

    @admin.display(description=_("sync"), ordering="sync_status")
    def sync(self, obj):
        return sync_badge(obj.sync_status, obj.get_sync_status_display(), obj.last_error)

    def save_model(self, request, obj, form, change):
        text = form.cleaned_data.get("new_reply", "").strip()
        if not text:
            return
        try:
            comment_services.comment_reply(comment=obj, content=text)
        except WeChatError as exc:
            wechat_error_message(request, exc, action=_("Reply"))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))

    def _each(self, request, queryset, run):
        for comment in queryset.select_related("article__account"):
            try:
                run(comment)
            except WeChatError as exc:
                wechat_error_message(request, exc, action=comment.content[:30])
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))

    @admin.action(description=_("Elect (精选)"))
    def elect(self, request, queryset):
        self._each(request, queryset, lambda c: comment_services.comment_elect(comment=c, elected=True))

    @admin.action(description=_("Remove from elected"))
    def unelect(self, request, queryset):
        self._each(request, queryset, lambda c: comment_services.comment_elect(comment=c, elected=False))

    @admin.action(description=_("Delete on WeChat"))
    def delete_on_wechat(self, request, queryset):
        self._each(request, queryset.filter(is_deleted=False), lambda c: comment_services.comment_delete(comment=c))

    @admin.action(description=_("Mark as read"))
    def mark_seen(self, request, queryset):
        comment_services.comments_mark_seen(comments=queryset)


class ArticleImageForm(forms.ModelForm):
    class Meta:
        model = ArticleImage
        fields = ["account", "file"]

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f and f.size >= 1024 * 1024:
            raise ValidationError(_("WeChat takes article images under 1 MB."))
        if f and not f.name.lower().endswith((".jpg", ".jpeg", ".png")):
            raise ValidationError(_("WeChat takes JPG or PNG article images."))
        return f


@admin.register(ArticleImage)
class ArticleImageAdmin(AccountScopedAdmin):
    form = ArticleImageForm
    list_display = ["__str__", "local_address", "url", "uploaded_at", "account"]
    list_filter = [account_scoped_filter("account")]
    readonly_fields = ["local_address", "url", "uploaded_at"]

    @admin.display(description=_("address to use in the editor"))
    def local_address(self, obj):
        return obj.file.url if obj and obj.file else "—"

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data["file"]
        upload.seek(0)
        image = draft_services.article_image_add(account=obj.account, content=upload.read(), name=upload.name)
        obj.pk = image.pk
        obj.file = image.file
        try:
            draft_services.article_image_upload(image=image)
        except WeChatError as exc:
            wechat_error_message(request, exc, action=_("Upload to WeChat"))
