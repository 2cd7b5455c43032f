"""The mass-send admin: compose, preview, confirm with audience and quota, schedule, cancel, results."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin, account_scoped_filter, progress_bar, sync_badge, wechat_error_message
from accounts.selectors import accounts_for_user
from messaging.admin_forms import CONDITIONAL_JS, FollowerPickerAdminMixin, form_for_request
from messaging.mass import selectors as mass_selectors
from messaging.mass import services as mass
from messaging.mass.models import MassBatch, MassMessage
from messaging.send_flow import SendFlowAdminMixin
from wechat.errors import WeChatError

from .forms import MassMessageForm
from .inlines import MassBatchInline, MassMessageEventInline

STATUS_COLOURS = {
    "draft": "pending",
    "scheduled": "syncing",
    "sending": "syncing",
    "sent": "synced",
    "partially_failed": "failed",
    "failed": "failed",
    "cancelled": "other",
}


@admin.register(MassMessage)
class MassMessageAdmin(SendFlowAdminMixin, FollowerPickerAdminMixin, AccountScopedAdmin):
    form = MassMessageForm
    send_flow_prefix = "mass"
    send_flow_preview_template = "admin/mass/massmessage/preview.html"
    send_flow_confirm_template = "admin/mass/massmessage/confirm_send.html"
    send_flow_confirm_title = _("Confirm mass send (确认群发) %(title)s")
    list_display = ["title", "account", "msgtype", "audience_label", "status_badge", "scheduled_at", "progress", "figures"]
    list_filter = [account_scoped_filter("account"), "status", "msgtype", "audience"]
    search_fields = ["title", "content", "batches__msg_id", "batches__clientmsgid"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["tag"]
    inlines = [MassBatchInline, MassMessageEventInline]
    actions = ["cancel_selected", "resend", "resend_past_window", "delete_articles", "poll_results"]
    change_form_template = "admin/mass/massmessage/change_form.html"
    change_list_template = "admin/mass/massmessage/change_list.html"
    fieldsets = [
        (None, {"fields": ["account", "title"]}),
        (
            _("Content (内容)"),
            {
                "fields": [
                    "msgtype",
                    "content",
                    "media_id",
                    "media_ids_text",
                    "recommend",
                    ("need_open_comment", "only_fans_can_comment"),
                    ("video_title", "video_description"),
                    "card_id",
                    "send_ignore_reprint",
                ]
            },
        ),
        (
            _("Audience (群发对象)"),
            {
                "fields": [
                    "audience",
                    "tag",
                    "followers",
                    "openids_text",
                    "openids_file",
                    ("filter_tag", "filter_scene"),
                    ("filter_after", "filter_before"),
                ]
            },
        ),
    ]

    class Media:
        js = [CONDITIONAL_JS]

    readonly_summary = [
        "status_badge",
        "scheduled_at",
        "recurrence",
        "progress",
        "figures",
        "last_error",
        "created_by",
        "created_at",
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        return form_for_request(super().get_form(request, obj, change=change, **kwargs), request, self)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        unknown = MassBatch.objects.filter(message_id=object_id, status=MassBatch.Status.UNKNOWN).count()
        live = mass_selectors.mass_messages_in_flight(MassMessage.objects.filter(pk=object_id)).exists()
        extra = {**(extra_context or {}), "unknown_batches": unknown, "live": live}
        return super().change_view(request, object_id, form_url, extra)

    def changelist_view(self, request, extra_context=None):
        live = mass_selectors.mass_messages_in_flight(self.get_queryset(request)).exists()
        return super().changelist_view(request, {**(extra_context or {}), "live": live})

    def get_inlines(self, request, obj=None):
        return self.inlines if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return [
                (None, {"fields": ["account", "title", "msgtype", "message_summary", "audience_label"]}),
                (_("Sending (发送)"), {"fields": self.readonly_summary}),
            ]
        sets = list(self.fieldsets)
        if obj is not None:
            sets.append((_("Sending (发送)"), {"fields": self.readonly_summary}))
        return sets

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return ["account", "title", "msgtype", "message_summary", "audience_label", *self.readonly_summary]
        return self.readonly_summary if obj is not None else []

    def has_change_permission(self, request, obj=None):
        # Once sending has started the row is a record: viewable, not editable.
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status not in (MassMessage.Status.DRAFT, MassMessage.Status.CANCELLED):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change and not MassMessage.objects.filter(pk=obj.pk, status__in=MassMessage.EDITABLE).exists():
            raise PermissionDenied("This mass message is no longer editable.")
        mass.mass_message_save(message=obj, actor=request.user, created=not change)

    # Columns

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return sync_badge(STATUS_COLOURS.get(obj.status, "other"), obj.get_status_display(), obj.last_error)

    @admin.display(description=_("audience"))
    def audience_label(self, obj):
        if obj.audience == MassMessage.Audience.TAG:
            return f"{obj.get_audience_display()}: {obj.tag or _('(deleted tag)')}"
        if obj.audience == MassMessage.Audience.OPENIDS:
            return f"{obj.get_audience_display()}: {len(obj.openids or [])}"
        return obj.get_audience_display()

    @admin.display(description=_("message"))
    def message_summary(self, obj):
        if obj.msgtype == MassMessage.MsgType.TEXT:
            return obj.content
        if obj.msgtype == MassMessage.MsgType.IMAGE:
            return ", ".join(obj.media_ids or [])
        if obj.msgtype == MassMessage.MsgType.CARD:
            return f"card_id {obj.card_id}"
        return f"media_id {obj.media_id}"

    @admin.display(description=_("progress"))
    def progress(self, obj):
        done, total = mass_selectors.mass_message_progress(obj)
        if not total:
            return "—"
        return progress_bar(done, total)

    @admin.display(description=_("figures (sent / filtered / errors)"))
    def figures(self, obj):
        totals = mass_selectors.mass_message_totals(obj)
        if totals["sent"] is None and totals["filtered"] is None:
            return "—" if not totals["recipients"] else format_html("≈{} {}", totals["recipients"], _("recipients"))
        return format_html(
            '<span class="mass-figures">{} / {} / {}</span> <small>(TotalCount {})</small>',
            totals["sent"] or 0,
            totals["filtered"] or 0,
            totals["errors"] or 0,
            totals["total"] or 0,
        )

    @admin.display(description=_("recurrence (定期群发)"))
    def recurrence(self, obj):
        task = obj.recurring_task
        if task is None:
            return "—"
        url = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
        return format_html('<a href="{}">{}</a> ({})', url, task.crontab, _("enabled") if task.enabled else _("disabled"))

    # Extra pages

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            *self.send_flow_urls(),
            path("<int:pk>/cancel/", view(self.cancel_view), name="mass_massmessage_cancel"),
            path("<int:pk>/recurrence/", view(self.recurrence_view), name="mass_massmessage_recurrence"),
            path("speed/", view(self.speed_view), name="mass_massmessage_speed"),
            *super().get_urls(),
        ]

    def _message(self, request, pk) -> MassMessage:
        return self._send_flow_object(request, pk)

    def _context(self, request, obj, title):
        return self.send_flow_page_context(request, obj, title)

    # The send flow (preview → confirm with audience size and quota → now or at a time)

    def send_flow_preview(self, request, obj, openids):
        return mass.mass_message_preview(message=obj, openids=openids, actor=request.user)

    def send_flow_schedule(self, request, obj, at):
        return mass.mass_message_schedule(message=obj, at=at, actor=request.user)

    def send_flow_confirm_context(self, request, obj):
        context = {
            "message_label": f"{obj.get_msgtype_display()} · {obj.title}",
            "audience_label": self.audience_label(obj),
            "subscription": obj.account.account_type == obj.account.AccountType.SUBSCRIPTION,
        }
        quota = mass_selectors.mass_quota_for(message=obj)
        return {**context, "quota": quota, "audience_size": quota["audience_size"]}

    def cancel_view(self, request, pk):
        obj = self._message(request, pk)
        if request.method == "POST":
            try:
                mass.mass_message_cancel(message=obj, actor=request.user, reason=request.POST.get("reason", ""))
                messages.success(request, _("Cancelled."))
            except ValidationError as exc:
                messages.error(request, "; ".join(exc.messages))
        return HttpResponseRedirect(reverse("admin:mass_massmessage_change", args=[obj.pk]))

    def recurrence_view(self, request, pk):
        obj = self._message(request, pk)
        error = ""
        fields = ["minute", "hour", "day_of_week", "day_of_month", "month_of_year"]
        crontab = obj.recurring_task.crontab if obj.recurring_task else None
        values = {
            f: getattr(crontab, f) if crontab else default for f, default in zip(fields, ["0", "9", "1", "*", "*"], strict=True)
        }
        if request.method == "POST":
            if request.POST.get("remove"):
                mass.mass_message_recurrence_clear(message=obj, actor=request.user)
                messages.success(request, _("Recurrence removed."))
                return HttpResponseRedirect(reverse("admin:mass_massmessage_change", args=[obj.pk]))
            values = {f: request.POST.get(f, "").strip() or "*" for f in fields}
            try:
                mass.mass_message_recurrence_set(message=obj, actor=request.user, **values)
            except ValidationError as exc:
                error = "; ".join(exc.messages)
            else:
                messages.success(request, _("This message now recurs; each run sends a new copy."))
                return HttpResponseRedirect(reverse("admin:mass_massmessage_change", args=[obj.pk]))
        context = {**self._context(request, obj, _("Recurring send (定期群发)")), "values": values, "error": error}
        return TemplateResponse(request, "admin/mass/massmessage/recurrence.html", context)

    def speed_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        accounts = accounts_for_user(request.user)
        account = accounts.filter(pk=request.GET.get("account") or request.POST.get("account") or 0).first() or accounts.first()
        current = None
        if account is not None:
            if request.method == "POST" and self.has_change_permission(request):
                try:
                    mass.mass_speed_set(account=account, speed=int(request.POST.get("speed", "-1")))
                    messages.success(request, _("Mass-send speed set."))
                except (ValueError, ValidationError) as exc:
                    messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
                except WeChatError as exc:
                    wechat_error_message(request, exc, action=_("speed/set"))
            try:
                current = mass.mass_speed_get(account=account)
            except WeChatError as exc:
                wechat_error_message(request, exc, action=_("speed/get"))
        context = {
            **self._context(request, None, _("Mass-send speed (群发速度)")),
            "accounts": accounts,
            "account": account,
            "current": current,
            "levels": sorted(mass.SPEED_LEVELS.items()),
        }
        return TemplateResponse(request, "admin/mass/massmessage/speed.html", context)

    # Actions

    @admin.action(description=_("Cancel selected scheduled sends"))
    def cancel_selected(self, request, queryset):
        done = 0
        for obj in queryset:
            try:
                mass.mass_message_cancel(message=obj, actor=request.user)
                done += 1
            except ValidationError as exc:
                messages.warning(request, f"{obj}: {'; '.join(exc.messages)}")
        if done:
            messages.success(request, _("%(n)d send(s) cancelled.") % {"n": done})

    @admin.action(
        description=_(
            "Resend: batches WeChat rejected get a new clientmsgid; batches with an unknown outcome repeat "
            "the same one (sent at most once)"
        )
    )
    def resend(self, request, queryset):
        self._resend(request, queryset, past_window=False)

    @admin.action(
        description=_("Resend unknown batches past the 24-hour window under new clientmsgids (followers may get it twice)")
    )
    def resend_past_window(self, request, queryset):
        self._resend(request, queryset, past_window=True)

    def _resend(self, request, queryset, *, past_window: bool) -> None:
        for obj in queryset:
            try:
                done = mass.mass_message_resend(message=obj, actor=request.user, past_window=past_window)
            except ValidationError as exc:
                messages.warning(request, f"{obj}: {'; '.join(exc.messages)}")
                continue
            messages.success(
                request,
                _(
                    "%(title)s: resending %(rejected)d rejected batch(es) under new clientmsgids, %(same)d with an "
                    "unknown outcome under the same clientmsgid, %(late)d past the 24-hour window under new ones."
                )
                % {"title": obj.title, "rejected": done["rejected"], "same": done["same_id"], "late": done["past_window"]},
            )

    @admin.action(description=_("Delete sent articles from WeChat (mass/delete)"))
    def delete_articles(self, request, queryset):
        for obj in queryset:
            try:
                n = mass.mass_message_delete_article(message=obj, actor=request.user)
                messages.success(request, _("%(title)s: deleted (%(n)d batch(es)).") % {"title": obj.title, "n": n})
            except ValidationError as exc:
                messages.warning(request, f"{obj}: {'; '.join(exc.messages)}")
            except WeChatError as exc:
                wechat_error_message(request, exc, action=str(obj))

    @admin.action(description=_("Ask WeChat for the status now (mass/get)"))
    def poll_results(self, request, queryset):
        polled = 0
        for batch in MassBatch.objects.filter(message__in=queryset, status=MassBatch.Status.SUBMITTED).select_related(
            "message__account"
        ):
            mass.mass_batch_poll(batch=batch)
            polled += 1
        messages.info(request, _("%(n)d batch(es) checked.") % {"n": polled})
