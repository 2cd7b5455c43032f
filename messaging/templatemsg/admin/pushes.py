"""Admin for template pushes (定时模板消息推送) to a tag, a list or all followers."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin, account_scoped_filter, progress_bar
from accounts.selectors import accounts_for_user
from followers.models import Follower, Tag
from messaging.admin_forms import CONDITIONAL_JS, FollowerPickerAdminMixin, conditional_attrs, form_for_request, picked_openids
from messaging.send_flow import SendFlowAdminMixin
from messaging.templatemsg import selectors, services
from messaging.templatemsg.models import MessageTemplate, TemplatePush

from .common import (
    MessageStatus,
    PushStatus,
    TemplateCardAdminMixin,
    TemplateDataField,
    form_errors_add,
    status_badge,
    template_data_setup,
    template_lines,
)

AUDIENCE_FIELDS = {
    TemplatePush.Audience.TAG: ["tag"],
    TemplatePush.Audience.ALL: [],
    TemplatePush.Audience.OPENIDS: ["followers"],
}


class TemplatePushForm(forms.ModelForm):
    data = TemplateDataField(label=_("Message (模板内容)"))
    followers = forms.ModelMultipleChoiceField(
        label=_("Followers"), queryset=Follower.objects.none(), to_field_name="openid", required=False
    )

    class Meta:
        model = TemplatePush
        fields = [
            "name",
            "account",
            "template",
            "data",
            "url",
            "miniprogram_appid",
            "miniprogram_pagepath",
            "audience",
            "tag",
            "followers",
            "rate_limit",
        ]

    def __init__(self, *args, request=None, model_admin=None, **kwargs):
        super().__init__(*args, **kwargs)
        if model_admin is not None and request is not None:
            self.fields["followers"] = model_admin.follower_field(
                request, multiple=True, required=False, label=_("Followers"), help_text=_("Search by OpenID or remark.")
            )
            if self.instance.pk:
                self.initial.setdefault("followers", list(self.instance.openids or []))
        if "audience" in self.fields:
            self.fields["audience"].widget.attrs.update(conditional_attrs(AUDIENCE_FIELDS))
        if "template" in self.fields:
            template_data_setup(self, card_url=model_admin.template_card_url() if model_admin else "")

    def clean_followers(self):
        return picked_openids(self)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["data"] = services.template_push_validate(
                account=cleaned["account"],
                template=cleaned["template"],
                data=cleaned.get("data"),
                audience=cleaned.get("audience"),
                tag=cleaned.get("tag"),
                openids=cleaned.get("followers"),
                url=cleaned.get("url", ""),
                miniprogram_appid=cleaned.get("miniprogram_appid", ""),
                miniprogram_pagepath=cleaned.get("miniprogram_pagepath", ""),
                rate_limit=cleaned.get("rate_limit"),
            )
        except ValidationError as exc:
            form_errors_add(self, exc, {"openids": "followers"})
        return cleaned


@admin.register(TemplatePush)
class TemplatePushAdmin(SendFlowAdminMixin, FollowerPickerAdminMixin, TemplateCardAdminMixin, AccountScopedAdmin):
    """Saving stores a draft; the push is sent only after preview → confirm with the audience size → now or later."""

    form = TemplatePushForm
    change_form_template = "admin/templatemsg/templatepush/change_form.html"
    send_flow_prefix = "push"
    send_flow_confirm_template = "admin/templatemsg/templatepush/confirm_send.html"
    send_flow_preview_template = "admin/templatemsg/templatepush/preview.html"
    list_display = ["name", "template", "audience_display", "send_at", "status_badge", "progress", "totals"]
    list_filter = ["status", account_scoped_filter("account"), "audience"]
    list_select_related = ["account", "template", "tag"]
    search_fields = ["name"]
    autocomplete_fields = ["template", "tag"]
    actions = ["cancel", "send_now", "resume"]
    readonly_fields = [
        "status_badge",
        "scheduled_at",
        "progress",
        "total",
        "totals",
        "last_error",
        "started_at",
        "finished_at",
    ]

    change_list_template = "admin/templatemsg/templatepush/change_list.html"
    change_form_template = "admin/templatemsg/templatepush/change_form.html"

    def changelist_view(self, request, extra_context=None):
        live = selectors.pushes_in_flight(TemplatePush.objects.filter(account__in=accounts_for_user(request.user)))
        return super().changelist_view(request, {**(extra_context or {}), "live": live.exists()})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        push = self.get_object(request, object_id)
        live = push is not None and selectors.pushes_in_flight(TemplatePush.objects.filter(pk=push.pk)).exists()
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "live": live})

    def get_queryset(self, request):
        return selectors.pushes_with_figures(super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scoped = accounts_for_user(request.user)
        if db_field.name == "template":
            kwargs["queryset"] = MessageTemplate.objects.filter(account__in=scoped)
        elif db_field.name == "tag":
            kwargs["queryset"] = Tag.objects.filter(account__in=scoped)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    class Media:
        js = [CONDITIONAL_JS]

    # A started push is a record: its content shows as the follower saw it, its audience as a count.
    RECORD_FIELDS = ["name", "account", "template", "message_display", "url", "audience_display", "rate_limit"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and not obj.is_editable:
            return super().get_form(request, obj, change=change, **kwargs)
        return form_for_request(super().get_form(request, obj, change=change, **kwargs), request, self)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return [*self.RECORD_FIELDS, *self.readonly_fields]
        return self.readonly_fields

    def get_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return [*self.RECORD_FIELDS, *self.readonly_fields]
        fields = list(self.form.Meta.fields)
        return fields if obj is None else [*fields, *self.readonly_fields]

    @admin.display(description=_("Message (模板内容)"))
    def message_display(self, obj):
        return format_html_join(
            mark_safe("<br>"), '<span style="color:#888">{}</span> {}', template_lines(obj.template, obj.data)
        )

    def save_model(self, request, obj, form, change):
        c = form.cleaned_data
        if change:
            current = TemplatePush.objects.filter(pk=obj.pk, status__in=TemplatePush.EDITABLE).first()
            if current is None:
                raise PermissionDenied
            try:
                fields = {name: c[name] for name in services.PUSH_EDITABLE_FIELDS if name in c}
                services.template_push_update(push=current, **fields, openids=c.get("followers") or [])
            except services.PushStarted as exc:  # it started between the form and the save
                raise PermissionDenied from exc
            obj.refresh_from_db()
            return
        push = services.template_push_create(
            account=c["account"],
            name=c["name"],
            template=c["template"],
            data=c["data"],
            audience=c["audience"],
            tag=c.get("tag"),
            openids=c.get("followers"),
            url=c.get("url", ""),
            miniprogram_appid=c.get("miniprogram_appid", ""),
            miniprogram_pagepath=c.get("miniprogram_pagepath", ""),
            rate_limit=c.get("rate_limit"),
            created_by=request.user,
            draft=True,
        )
        obj.pk = push.pk
        obj.refresh_from_db()

    def get_urls(self):
        return [*self.send_flow_urls(), *super().get_urls()]

    # The send flow

    def send_flow_preview(self, request, obj, openids):
        return services.template_push_preview(push=obj, openids=openids)

    def send_flow_schedule(self, request, obj, at):
        return services.template_push_schedule(push=obj, at=at)

    def send_flow_preview_context(self, request, obj):
        return {"lines": template_lines(obj.template, obj.data)}

    def send_flow_confirm_context(self, request, obj):
        return {
            "message_label": f"{obj.template} · {obj.name}",
            "audience_label": self.audience_display(obj),
            "audience_size": selectors.push_audience_size(obj),
            "lines": template_lines(obj.template, obj.data),
        }

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status not in (PushStatus.DRAFT, PushStatus.SCHEDULED, PushStatus.CANCELLED):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("audience"))
    def audience_display(self, obj):
        if obj.audience == TemplatePush.Audience.TAG:
            return format_html("{}: {}", _("tag"), obj.tag or "—")
        if obj.audience == TemplatePush.Audience.OPENIDS:
            return _("%(n)d OpenIDs") % {"n": len(obj.openids or [])}
        return obj.get_audience_display()

    @admin.display(description=_("send at"), ordering="scheduled_at")
    def send_at(self, obj):
        # A draft has no time yet: it is chosen on the confirmation page.
        return "—" if obj.status == PushStatus.DRAFT else timezone.localtime(obj.scheduled_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return status_badge(obj.status, obj.get_status_display(), obj.last_error)

    @admin.display(description=_("progress"))
    def progress(self, obj):
        open_count = getattr(obj, "open_count", None)
        if open_count is None:
            open_count = obj.messages.filter(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]).count()
        done = obj.total - open_count if obj.expanded else 0
        bar = progress_bar(done, obj.total)
        if obj.last_error:
            return format_html('{}<div style="color:#c53030">{}</div>', bar, obj.last_error)
        return bar

    @admin.display(description=_("sent / delivered / failed"))
    def totals(self, obj):
        if not hasattr(obj, "live_sent"):
            obj = selectors.pushes_with_figures(TemplatePush.objects.filter(pk=obj.pk)).get()
        return format_html(
            '<span class="push-figures" title="{}">{} / <b style="color:#2f855a">{}</b> / <b style="color:#c53030">{}</b></span>',
            _("of %(total)d receivers") % {"total": obj.total},
            obj.live_sent,
            obj.live_success,
            obj.live_failed,
        )

    @admin.action(description=_("Cancel (取消) pushes that have not started"), permissions=["change"])
    def cancel(self, request, queryset):
        for push in queryset:
            if services.template_push_cancel(push=push):
                messages.success(request, _("%(push)s: cancelled.") % {"push": push})
            else:
                messages.error(request, _("%(push)s: already started or finished; it cannot be cancelled.") % {"push": push})

    @admin.action(description=_("Send now (立即发送)"), permissions=["change"])
    def send_now(self, request, queryset):
        for push in queryset.filter(status=PushStatus.SCHEDULED):
            TemplatePush.objects.filter(pk=push.pk, status=PushStatus.SCHEDULED).update(scheduled_at=timezone.now())
            services.template_push_enqueue_start(push=push)
            messages.success(request, _("%(push)s: sending started.") % {"push": push})

    @admin.action(description=_("Resume (继续发送) stopped pushes"), permissions=["change"])
    def resume(self, request, queryset):
        for push in queryset.filter(status__in=[PushStatus.STOPPED, PushStatus.SENDING]):
            services.template_push_enqueue_resume(push=push)
            messages.success(request, _("%(push)s: resumed.") % {"push": push})
