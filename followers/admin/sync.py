"""Admin for follower sync jobs, and the "Sync followers now" action on official accounts."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import OfficialAccountAdmin
from accounts.admin_base import ReadOnlyAdmin, account_scoped_filter, progress_bar, sync_badge
from followers.models import SyncJob
from followers.services import sync
from wechat.errors import describe

_STATUS_COLOURS = {
    SyncJob.Status.QUEUED: "pending",
    SyncJob.Status.RUNNING: "syncing",
    SyncJob.Status.SUCCEEDED: "synced",
    SyncJob.Status.FAILED: "failed",
}


def _start(request, account) -> None:
    try:
        with transaction.atomic():
            job = sync.follower_sync_start(account=account, user=request.user)
    except sync.SyncAlreadyRunning as exc:
        messages.error(
            request,
            _("%(account)s: a follower sync is already queued or running (%(job)s, %(done)s / %(total)s). Wait for it to finish.")
            % {
                "account": account,
                "job": exc.job,
                "done": exc.job.done if exc.job else 0,
                "total": exc.job.total if exc.job else 0,
            },
        )
        return
    if job.done:
        messages.success(
            request, _("%(account)s: follower sync resumed from %(done)s followers.") % {"account": account, "done": job.done}
        )
    else:
        messages.success(request, _("%(account)s: follower sync started.") % {"account": account})


@admin.action(description=_("Sync followers now (同步粉丝)"))
def sync_followers_now(modeladmin, request, queryset):
    for account in queryset:
        _start(request, account)


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
    readonly_fields = [
        "account",
        "kind",
        "status",
        "progress",
        "total",
        "done",
        "failed",
        "page_token",
        "page_offset",
        "attempt",
        "error_display",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "lease_until",
    ]
    fields = readonly_fields
    actions = ["resume"]

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
            _start(request, account)
