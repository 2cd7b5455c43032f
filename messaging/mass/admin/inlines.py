"""Batches and the event log shown on a mass send's page."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import TabularInline, sync_badge
from messaging.mass.models import MassBatch, MassMessageEvent

BATCH_COLOURS = {
    "pending": "pending",
    "sending": "syncing",
    "submitted": "synced",
    "finished": "synced",
    "failed": "failed",
    "unknown": "pending",
    "cancelled": "other",
}


# WeChat's Status of a finished mass job (MASSSENDJOBFINISH / get), as the console words it.
JOB_STATUSES = {"send success": _("Sent (发送成功)"), "send fail": _("Send failed (发送失败)")}


def job_status_label(value: str) -> str:
    if not value:
        return "—"
    if value.startswith("err(") and value.endswith(")"):
        return _("Failed, WeChat error %(code)s (发送失败)") % {"code": value[4:-1]}
    return str(JOB_STATUSES.get(value, value))


class MassBatchInline(TabularInline):
    model = MassBatch
    extra = 0
    can_delete = False
    fields = [
        "index",
        "clientmsgid",
        "recipients",
        "status_badge",
        "resend_note",
        "attempts",
        "msg_id",
        "job_status_display",
        "counts",
        "error",
    ]
    readonly_fields = fields
    verbose_name_plural = _("batches (one WeChat call each)")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("job status"))
    def job_status_display(self, obj):
        return job_status_label(obj.job_status)

    @admin.display(description=_("error"))
    def error(self, obj):
        return obj.error_display or obj.errmsg

    @admin.display(description=_("status"))
    def status_badge(self, obj):
        return sync_badge(BATCH_COLOURS.get(obj.status, "other"), obj.get_status_display(), obj.error_display or obj.errmsg)

    @admin.display(description=_("on resend"))
    def resend_note(self, obj):
        if obj.status == MassBatch.Status.FAILED:
            return _("WeChat rejected it: a resend uses a new clientmsgid.")
        if obj.status != MassBatch.Status.UNKNOWN:
            return "—"
        if obj.same_id_resend_open(timezone.now()):
            return _(
                "WeChat may have sent it. Repeated with the same clientmsgid until %(until)s: WeChat answers 45065 "
                "if it sent it, so followers get it once."
            ) % {"until": timezone.localtime(obj.same_id_resend_until).strftime("%Y-%m-%d %H:%M")}
        return _(
            "WeChat may have sent it, and no longer remembers its clientmsgid (24 hours): not resent automatically. "
            "Check 群发记录 in the WeChat console; resending could reach followers twice."
        )

    @admin.display(description=_("Total / Filter / Sent / Error"))
    def counts(self, obj):
        if obj.total_count is None:
            return "—"
        values = [obj.total_count, obj.filter_count, obj.sent_count, obj.error_count]
        text = " / ".join("—" if v is None else str(v) for v in values)
        if obj.check_state:
            text += f" · CheckState {obj.check_state}"
        return text


class MassMessageEventInline(TabularInline):
    model = MassMessageEvent
    extra = 0
    can_delete = False
    fields = ["at", "old_status_label", "new_status_label", "actor", "actor_label", "reason"]
    readonly_fields = fields
    verbose_name_plural = _("history")

    @admin.display(description=_("from"))
    def old_status_label(self, obj):
        return obj.status_label(obj.old_status)

    @admin.display(description=_("to"))
    def new_status_label(self, obj):
        return obj.status_label(obj.new_status)

    def has_add_permission(self, request, obj=None):
        return False
