"""Admin for follower sync jobs (their page follows a running job live), and "Sync followers now" on official accounts."""

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_field
from django.db import transaction
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import OfficialAccountAdmin
from accounts.admin_base import ReadOnlyAdmin, account_scoped_filter, progress_bar, sync_badge
from followers.models import SyncJob
from followers.services import sync
from wechat.errors import describe

# How often an open job page asks for the job's progress.
LIVE_POLL_SECONDS = 2
# What a running job changes. Its page shows these in the live panel only, which follows the job: rows of the form
# would keep the values of the moment the page was opened, beside the panel's current ones.
LIVE_FIELDS = (
    "status",
    "progress",
    "total",
    "done",
    "failed",
    "page_token",
    "page_offset",
    "attempt",
    "error_display",
    "started_at",
    "finished_at",
    "lease_until",
)
# Shown by the live panel under its progress line (the others it shows already).
LIVE_DETAILS = ("page_token", "page_offset", "attempt", "started_at", "lease_until")

_STATUS_COLOURS = {
    SyncJob.Status.QUEUED: "pending",
    SyncJob.Status.RUNNING: "syncing",
    SyncJob.Status.SUCCEEDED: "synced",
    SyncJob.Status.FAILED: "failed",
}


def _job_link(job: SyncJob):
    url = reverse("admin:followers_syncjob_change", args=[job.pk])
    return format_html(' <a class="sync-job-link" href="{}">{}</a>', url, _("Follow its progress"))


def sync_start_for_operator(request, account) -> SyncJob | None:
    """Start (or resume) a full follower sync and say so with a link to the job; the job, or the one in the way."""
    try:
        with transaction.atomic():
            job = sync.follower_sync_start(account=account, user=request.user)
    except sync.SyncAlreadyRunning as exc:
        text = _(
            "%(account)s: a follower sync is already queued or running (%(job)s, %(done)s / %(total)s). Wait for it to finish."
        ) % {
            "account": account,
            "job": exc.job,
            "done": exc.job.done if exc.job else 0,
            "total": exc.job.total if exc.job else 0,
        }
        messages.error(request, format_html("{}{}", text, _job_link(exc.job) if exc.job else ""))
        return exc.job
    if job.done:
        text = _("%(account)s: follower sync resumed from %(done)s followers.") % {"account": account, "done": job.done}
    else:
        text = _("%(account)s: follower sync started.") % {"account": account}
    messages.success(request, format_html("{}{}", text, _job_link(job)))
    return job


@admin.action(description=_("Sync followers now (同步粉丝)"))
def sync_followers_now(modeladmin, request, queryset):
    for account in queryset:
        sync_start_for_operator(request, account)


OfficialAccountAdmin.actions = [*OfficialAccountAdmin.actions, sync_followers_now]


@admin.register(SyncJob)
class SyncJobAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "account",
        "status_badge",
        "progress",
        "done",
        "total",
        "failed",
        "started_at",
        "finished_at",
        "error_display",
    ]
    list_filter = ["status", "kind", account_scoped_filter("account")]
    list_select_related = ["account"]
    readonly_fields = ["account", "kind", "created_by", "created_at", *LIVE_FIELDS]
    fields = readonly_fields
    actions = ["resume"]
    change_form_template = "admin/followers/syncjob/change_form.html"
    change_list_template = "admin/followers/syncjob/change_list.html"

    def changelist_view(self, request, extra_context=None):
        live = self.get_queryset(request).filter(status__in=SyncJob.ACTIVE).exists()
        return super().changelist_view(request, {**(extra_context or {}), "live": live})

    def get_urls(self):
        live = path("<path:object_id>/live/", self.admin_site.admin_view(self.live_view), name="followers_syncjob_live")
        return [live, *super().get_urls()]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and obj.status in SyncJob.ACTIVE:
            return [name for name in fields if name not in LIVE_FIELDS]
        return fields

    def live_context(self, job: SyncJob, *, details: bool) -> dict:
        return {
            "job": job,
            "active": job.status in SyncJob.ACTIVE,
            "details": [self._detail(job, name) for name in LIVE_DETAILS] if details else [],
            "status_badge": self.status_badge(job),
            "progress": self.progress(job),
            "error": self.error_display(job),
            "live_url": reverse("admin:followers_syncjob_live", args=[job.pk]),
            "poll_seconds": LIVE_POLL_SECONDS,
        }

    def _detail(self, job: SyncJob, name: str) -> tuple:
        """(label, value) of one of the job's fields, the value shown as the form's readonly rows show it."""
        field = SyncJob._meta.get_field(name)
        value = getattr(job, name)
        return field.verbose_name, display_for_field(None if value == "" else value, field, self.get_empty_value_display())

    def live_view(self, request, object_id):
        """The job's status and progress, asked for every few seconds by its page while the job runs (htmx)."""
        job = self.get_object(request, object_id)
        if job is None or not self.has_view_permission(request, job):
            raise Http404
        # Asked for only by a page opened while the job ran, whose form leaves the job's changing fields to the panel.
        return TemplateResponse(request, "admin/followers/syncjob/_live.html", self.live_context(job, details=True))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        live = self.live_context(job, details=job.status in SyncJob.ACTIVE) if job else {}
        extra = {**(extra_context or {}), **live}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return sync_badge(_STATUS_COLOURS.get(obj.status, ""), obj.get_status_display(), obj.error)

    @admin.display(description=_("progress"))
    def progress(self, obj):
        return progress_bar(obj.done, max(obj.total, obj.done))

    @admin.display(description=_("error"))
    def error_display(self, obj):
        if obj.errcode is None:
            return obj.error
        info = describe(obj.errcode)
        return format_html("<strong>{}</strong> — {} / {}", obj.errcode, info.zh, info.en)

    @admin.action(description=_("Resume or restart the follower sync (继续同步)"))
    def resume(self, request, queryset):
        for account in {job.account for job in queryset.select_related("account")}:
            sync_start_for_operator(request, account)
