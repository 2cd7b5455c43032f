"""Admin of the media library: materials as a grid of thumbnails and players, temporary media, pulls from WeChat."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import (
    AccountScopedAdmin,
    ReadOnlyAdmin,
    account_scoped_filter,
    progress_bar,
    sync_badge,
    wechat_error_message,
)
from accounts.selectors import accounts_for_user
from media_assets.models import Material, MaterialPullJob, MediaKind, TemporaryMedia
from media_assets.previews import preview
from media_assets.services import materials, pull, temporary
from media_assets.services.limits import file_refusal
from wechat.api.media import LIMITS
from wechat.errors import WeChatError

_JOB_COLOURS = {
    MaterialPullJob.Status.QUEUED: "pending",
    MaterialPullJob.Status.RUNNING: "syncing",
    MaterialPullJob.Status.SUCCEEDED: "synced",
    MaterialPullJob.Status.FAILED: "failed",
}


def limits_help() -> str:
    return " · ".join(
        f"{kind}: {limit.formats} ≤ {limit.max_bytes // 1024 // 1024 or limit.max_bytes // 1024}"
        f"{' MB' if limit.max_bytes >= 1024 * 1024 else ' KB'}"
        for kind, limit in LIMITS.items()
    )


def _serve(entry) -> FileResponse | HttpResponseRedirect:
    if not entry.file:
        raise Http404
    if isinstance(entry.file.storage, FileSystemStorage):
        return FileResponse(entry.file.open("rb"), content_type=getattr(entry, "content_type", "") or None)
    return HttpResponseRedirect(entry.file.url)  # S3 and the like: a (signed) URL of the storage


class MaterialForm(forms.ModelForm):
    """Upload a new material: WeChat's limits are checked here, before anything is saved or sent."""

    class Meta:
        model = Material
        fields = ["account", "kind", "file", "title", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].required = True
        self.fields["file"].help_text = _("WeChat's limits: %(limits)s. Videos need a title.") % {"limits": limits_help()}

    def clean(self):
        cleaned = super().clean()
        kind, upload, account = cleaned.get("kind"), cleaned.get("file"), cleaned.get("account")
        if not (kind and upload and account):
            return cleaned
        errors = materials.material_check(
            account=account, kind=kind, name=upload.name, size=upload.size, title=cleaned.get("title") or ""
        )
        for field, message in errors.items():
            self.add_error(field, message)
        return cleaned


@admin.register(Material)
class MaterialAdmin(AccountScopedAdmin):
    """Materials as a grid of thumbnails (change_list.html); the add form uploads, bulk actions sync and delete."""

    form = MaterialForm
    change_list_template = "admin/media_assets/material/change_list.html"
    list_display = ["preview_small", "name", "kind", "media_id", "status_badge", "updated_at"]
    list_filter = [account_scoped_filter("account"), "kind", "sync_status"]
    list_select_related = ["account"]
    search_fields = ["name", "title", "media_id"]
    list_per_page = 48
    actions = ["sync_selected", "delete_on_wechat"]
    readonly_fields = [
        "preview_large",
        "media_id",
        "url",
        "size",
        "status_badge",
        "last_error",
        "wechat_update_time",
        "removed_on_wechat_at",
        "synced_at",
        "created_by",
        "created_at",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["account", "kind", "file", "title", "description"]
        return ["account", "kind", "name", "title", "description", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["account", "kind", "name", "title", "description", *self.readonly_fields]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # replaced by delete_on_wechat, which asks WeChat first
        return actions

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        try:
            created = materials.material_create(
                account=data["account"],
                kind=data["kind"],
                upload=data["file"],
                title=data.get("title") or "",
                description=data.get("description") or "",
                user=request.user,
            )
        except ValidationError as exc:  # the library filled up since the form was checked
            raise forms.ValidationError(exc.messages) from exc
        obj.pk = created.pk
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if not k.startswith("_")})

    def delete_model(self, request, obj):
        try:
            materials.material_delete(material=obj)
        except WeChatError as exc:
            wechat_error_message(request, exc, action=str(obj))

    def delete_queryset(self, request, queryset):
        for material in queryset:
            self.delete_model(request, material)

    @admin.action(description=_("Sync with WeChat (upload again what is not there)"))
    def sync_selected(self, request, queryset):
        count = materials.materials_sync(materials=queryset)
        messages.success(request, _("%(count)s materials queued for upload.") % {"count": count})

    @admin.action(description=_("Delete on WeChat and here"), permissions=["delete"])
    def delete_on_wechat(self, request, queryset):
        deleted = 0
        for material in queryset.select_related("account"):
            try:
                materials.material_delete(material=material)
                deleted += 1
            except WeChatError as exc:
                wechat_error_message(request, exc, action=str(material))
        if deleted:
            messages.success(request, _("%(count)s materials deleted.") % {"count": deleted})

    @admin.display(description=_("preview"))
    def preview_small(self, obj):
        return preview(obj, size=64)

    @admin.display(description=_("preview"))
    def preview_large(self, obj):
        return preview(obj, size=360)

    @admin.display(description=_("WeChat sync"), ordering="sync_status")
    def status_badge(self, obj):
        return sync_badge(obj.sync_status, obj.get_sync_status_display(), obj.last_error)

    # Grid page, pull, files.

    def get_urls(self):
        urls = [
            path("pull/", self.admin_site.admin_view(self.pull_view), name="media_assets_material_pull"),
            path("<int:pk>/file/", self.admin_site.admin_view(self.file_view), name="media_assets_material_file"),
        ]
        return [*urls, *super().get_urls()]

    def file_view(self, request, pk: int):
        return _serve(get_object_or_404(self.get_queryset(request), pk=pk))

    def pull_view(self, request):
        if request.method != "POST" or not self.has_view_permission(request):
            return redirect("admin:media_assets_material_changelist")
        account = get_object_or_404(accounts_for_user(request.user), pk=request.POST.get("account") or 0)
        with transaction.atomic():
            job, created = pull.material_pull_start(account=account, user=request.user)
        if created:
            messages.success(request, _("%(account)s: pulling the material library from WeChat.") % {"account": account})
        else:
            messages.warning(
                request,
                _("%(account)s: a pull is already queued or running (%(done)s / %(total)s).")
                % {"account": account, "done": job.done, "total": job.total},
            )
        return redirect("admin:media_assets_material_changelist")

    def changelist_view(self, request, extra_context=None):
        accounts = accounts_for_user(request.user)
        jobs = []
        for account in accounts:
            job = MaterialPullJob.objects.filter(account=account).order_by("-created_at", "-id").first()
            if job is not None:
                jobs.append(
                    {
                        "job": job,
                        "badge": sync_badge(_JOB_COLOURS[job.status], job.get_status_display(), job.error),
                        "bar": progress_bar(job.done, job.total),
                    }
                )
        context = {
            "pull_accounts": accounts,
            "pull_url": reverse("admin:media_assets_material_pull"),
            "pull_label": _("Pull from WeChat (同步素材库)"),
            "pull_jobs": jobs,
            "kinds": MediaKind.choices,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)


@admin.register(MaterialPullJob)
class MaterialPullJobAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "account",
        "status_badge",
        "progress",
        "done",
        "total",
        "created",
        "started_at",
        "finished_at",
        "error",
    ]
    list_filter = ["status", account_scoped_filter("account")]
    list_select_related = ["account"]
    actions = ["resume"]
    readonly_fields = [
        "account",
        "status",
        "progress",
        "total",
        "done",
        "created",
        "current_kind",
        "offset",
        "attempt",
        "errcode",
        "error",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    ]

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return sync_badge(_JOB_COLOURS[obj.status], obj.get_status_display(), obj.error)

    @admin.display(description=_("progress"))
    def progress(self, obj):
        return progress_bar(obj.done, obj.total)

    @admin.action(description=_("Resume from where it stopped"))
    def resume(self, request, queryset):
        resumed = sum(1 for job in queryset if pull.material_pull_resume(job=job))
        messages.success(request, _("%(count)s pulls resumed.") % {"count": resumed})

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("media_assets.view_material") or super().has_view_permission(request, obj)


class TemporaryMediaForm(forms.ModelForm):
    class Meta:
        model = TemporaryMedia
        fields = ["account", "kind", "file"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].required = True
        self.fields["file"].help_text = _("Kept by WeChat for 3 days, uploaded again when used later. Limits: %(limits)s.") % {
            "limits": limits_help()
        }

    def clean(self):
        cleaned = super().clean()
        kind, upload = cleaned.get("kind"), cleaned.get("file")
        if kind and upload and (message := file_refusal(kind=kind, name=upload.name, size=upload.size)):
            self.add_error("file", message)
        return cleaned


@admin.register(TemporaryMedia)
class TemporaryMediaAdmin(AccountScopedAdmin):
    form = TemporaryMediaForm
    list_display = ["preview_small", "name", "kind", "origin", "media_id", "expiry", "status_badge", "created_at"]
    list_filter = [account_scoped_filter("account"), "kind", "origin", "sync_status"]
    list_select_related = ["account"]
    search_fields = ["name", "media_id"]
    readonly_fields = [
        "preview_large",
        "name",
        "size",
        "content_type",
        "media_id",
        "video_url",
        "uploaded_at",
        "expires_at",
        "status_badge",
        "last_error",
        "created_by",
        "created_at",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["account", "kind", "file"]
        return ["account", "kind", "origin", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["account", "kind", "origin", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        created = temporary.temporary_media_create(
            account=data["account"], kind=data["kind"], upload=data["file"], user=request.user, send_now=False
        )
        try:
            temporary.temporary_media_upload(media=created)
        except WeChatError as exc:  # kept on the row (failed, with the errcode and its meaning)
            wechat_error_message(request, exc, action=_("Upload"))
        obj.pk = created.pk
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if not k.startswith("_")})

    actions = ["upload_again"]

    @admin.action(description=_("Upload again to WeChat (new media_id, 3 more days)"))
    def upload_again(self, request, queryset):
        uploaded = 0
        for media in queryset.select_related("account").exclude(file=""):
            try:
                temporary.temporary_media_upload(media=media)
                uploaded += 1
            except WeChatError as exc:
                wechat_error_message(request, exc, action=str(media))
        messages.success(request, _("%(count)s files uploaded again.") % {"count": uploaded})

    def get_urls(self):
        serve = path("<int:pk>/file/", self.admin_site.admin_view(self.file_view), name="media_assets_temporarymedia_file")
        return [serve, *super().get_urls()]

    def file_view(self, request, pk: int):
        return _serve(get_object_or_404(self.get_queryset(request), pk=pk))

    @admin.display(description=_("preview"))
    def preview_small(self, obj):
        return preview(obj, size=64)

    @admin.display(description=_("preview"))
    def preview_large(self, obj):
        return preview(obj, size=360)

    @admin.display(description=_("expires"), ordering="expires_at")
    def expiry(self, obj):
        if obj.expires_at is None:
            return "—"
        if obj.is_expired():
            return format_html(
                '<span style="color:#c53030">{}</span>', _("expired (uploaded again on use)") if obj.file else _("expired")
            )
        return obj.expires_at

    @admin.display(description=_("WeChat sync"), ordering="sync_status")
    def status_badge(self, obj):
        return sync_badge(obj.sync_status, obj.get_sync_status_display(), obj.last_error)
