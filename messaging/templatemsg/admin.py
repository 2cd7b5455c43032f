"""Admin for template messages (模板消息): templates, single messages and group pushes."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import OfficialAccount, Tag
from accounts.selectors import accounts_for_user
from wechat.errors import WeChatError
from wxsite.admin_utils import AccountScopedAdmin, account_scoped_filter, progress_bar, sync_badge, wechat_error_message

# receivers/tasks/seeding: connect the TEMPLATESENDJOBFINISH receiver, register the tasks and the sandbox seeder
# in every process, since admin modules are autodiscovered by django.setup() in web, worker and beat alike.
from . import services
from .models import MessageTemplate, TemplateMessage, TemplatePush

MessageStatus = TemplateMessage.Status
PushStatus = TemplatePush.Status

STATUS_COLOURS = {
    "queued": "#4a5568",
    "sending": "#2b6cb0",
    "sent": "#2b6cb0",
    "success": "#2f855a",
    "scheduled": "#b7791f",
    "stopped": "#c05621",
    "cancelled": "#718096",
}


def _wechat_error_text(exc: WeChatError) -> str:
    return f"{_('WeChat answered')} {exc.errcode} — {exc.meaning_zh} / {exc.meaning_en}"


def _status_badge(status: str, label: str, error: str = ""):
    colour = STATUS_COLOURS.get(status, "#c53030")
    return format_html(
        '<span title="{}" style="background:{};color:#fff;border-radius:8px;padding:1px 8px;font-size:11px;'
        'white-space:nowrap">{}</span>',
        error,
        colour,
        label,
    )


def _add_errors(form: forms.Form, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, msgs in exc.message_dict.items():
        field = aliases.get(key, key)
        form.add_error(field if field in form.fields else None, msgs)


class JSONDataField(forms.CharField):
    """Template data as JSON, shown indented."""

    widget = forms.Textarea(attrs={"rows": 6, "cols": 60, "style": "font-family:monospace"})

    def prepare_value(self, value):
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False, indent=2)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return {}
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from exc


# Templates ----------------------------------------------------------------------------------------------------


class MessageTemplateAddForm(forms.ModelForm):
    """Adds a template from WeChat's library (模板库) to the account; WeChat assigns the template ID."""

    keyword_names = forms.CharField(
        label=_("keywords (关键词)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional: keyword names to use, one per line, for library templates that let you choose (类目模板)."),
    )

    class Meta:
        model = MessageTemplate
        fields = ["account", "template_id_short"]

    def clean(self):
        cleaned = super().clean()
        account, short = cleaned.get("account"), (cleaned.get("template_id_short") or "").strip()
        if self.errors or not account:
            return cleaned
        if not short:
            self.add_error("template_id_short", _("Enter the template's library number, e.g. TM00015."))
            return cleaned
        names = [n.strip() for n in (cleaned.get("keyword_names") or "").splitlines() if n.strip()]
        try:
            self.added = services.message_template_add(account=account, template_id_short=short, keyword_names=names)
        except WeChatError as exc:
            raise ValidationError(_wechat_error_text(exc)) from exc
        return cleaned

    def validate_unique(self):
        """The row is created by the WeChat call in clean()."""

    def save(self, commit=True):
        self.save_m2m = lambda: None
        return self.added


@admin.register(MessageTemplate)
class MessageTemplateAdmin(AccountScopedAdmin):
    list_display = ["title", "account", "template_id", "keywords_display", "industry", "sync_state", "synced_at"]
    list_filter = [account_scoped_filter("account"), "sync_status"]
    search_fields = ["title", "template_id", "template_id_short", "content"]
    actions = ["pull_accounts", "delete_at_wechat"]
    change_list_template = "admin/templatemsg/messagetemplate/change_list.html"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = MessageTemplateAddForm
            kwargs["fields"] = ["account", "template_id_short", "keyword_names"]
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["account", "template_id_short", "keyword_names"]
        return [
            "account",
            "title",
            "template_id",
            "template_id_short",
            "primary_industry",
            "deputy_industry",
            "content",
            "example",
            "keywords",
            "sync_status",
            "synced_at",
            "last_error",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # deletion goes through WeChat: the "delete at WeChat" action

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            return actions
        return {k: v for k, v in actions.items() if k not in ("pull_accounts", "delete_at_wechat")}

    @admin.display(description=_("keywords"))
    def keywords_display(self, obj):
        return ", ".join(obj.keywords or [])

    @admin.display(description=_("industry (行业)"))
    def industry(self, obj):
        return " / ".join(x for x in (obj.primary_industry, obj.deputy_industry) if x)

    @admin.display(description=_("sync"), ordering="sync_status")
    def sync_state(self, obj):
        return sync_badge(obj.sync_status, obj.get_sync_status_display(), obj.last_error)

    def get_urls(self):
        return [
            path("pull/", self.admin_site.admin_view(self.pull_view), name="templatemsg_messagetemplate_pull"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_pull": self.has_change_permission(request),
            "pull_accounts": accounts_for_user(request.user),
        }
        return super().changelist_view(request, extra_context)

    def _pull(self, request, accounts):
        for account in accounts:
            try:
                result = services.message_templates_pull(account=account)
            except WeChatError as exc:
                wechat_error_message(request, exc, action=str(account))
            else:
                messages.success(
                    request,
                    _("%(account)s: %(count)d templates pulled from WeChat, %(removed)d removed.")
                    % {"account": account, **result},
                )

    def pull_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        accounts = accounts_for_user(request.user)
        if request.POST.get("account"):
            accounts = accounts.filter(pk=request.POST["account"])
        self._pull(request, accounts)
        return HttpResponseRedirect(reverse("admin:templatemsg_messagetemplate_changelist"))

    @admin.action(description=_("Pull templates from WeChat (同步模板)"), permissions=["change"])
    def pull_accounts(self, request, queryset):
        self._pull(request, OfficialAccount.objects.filter(pk__in=queryset.values("account_id")))

    @admin.action(description=_("Delete at WeChat (删除模板)"), permissions=["change"])
    def delete_at_wechat(self, request, queryset):
        for template in queryset.select_related("account"):
            try:
                services.message_template_delete(template=template)
            except WeChatError as exc:
                wechat_error_message(request, exc, action=str(template))
            except ValidationError as exc:
                messages.error(request, f"{template}: {' '.join(exc.messages)}")
            else:
                messages.success(request, _("%(template)s: deleted at WeChat.") % {"template": template})


# Single messages -----------------------------------------------------------------------------------------------


class TemplateMessageForm(forms.ModelForm):
    data = JSONDataField(label=_("data"), help_text=_('{"keyword1": {"value": "…"}, …}; each value at most 20 characters.'))

    class Meta:
        model = TemplateMessage
        fields = ["account", "template", "openid", "data", "url", "miniprogram_appid", "miniprogram_pagepath"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        self.validated = cleaned
        try:
            services.template_message_validate(
                account=cleaned["account"],
                openid=cleaned.get("openid", ""),
                template=cleaned["template"],
                data=cleaned.get("data"),
                url=cleaned.get("url", ""),
                miniprogram_appid=cleaned.get("miniprogram_appid", ""),
                miniprogram_pagepath=cleaned.get("miniprogram_pagepath", ""),
            )
        except ValidationError as exc:
            _add_errors(self, exc, {"touser": "openid", "template_id": "template"})
        return cleaned

    def validate_unique(self):
        """client_msg_id is generated by the service."""

    def save(self, commit=True):
        c = self.validated
        message, _created = services.template_message_create(
            account=c["account"],
            openid=c["openid"],
            template=c["template"],
            data=c["data"],
            url=c.get("url", ""),
            miniprogram_appid=c.get("miniprogram_appid", ""),
            miniprogram_pagepath=c.get("miniprogram_pagepath", ""),
        )
        self.save_m2m = lambda: None
        return message


@admin.register(TemplateMessage)
class TemplateMessageAdmin(AccountScopedAdmin):
    list_display = ["created_at", "account", "openid", "template", "status_badge", "msgid", "errcode", "push"]
    list_filter = ["status", account_scoped_filter("account"), "created_at"]
    list_select_related = ["account", "template", "push"]
    search_fields = ["=openid", "=msgid", "=client_msg_id"]
    date_hierarchy = "created_at"
    form = TemplateMessageForm
    raw_id_fields = ["push"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "template":
            kwargs["queryset"] = MessageTemplate.objects.filter(account__in=accounts_for_user(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["account", "template", "openid", "data", "url", "miniprogram_appid", "miniprogram_pagepath"]
        return [
            "account",
            "openid",
            "template",
            "wechat_template_id",
            "data",
            "url",
            "miniprogram_appid",
            "miniprogram_pagepath",
            "client_msg_id",
            "status",
            "msgid",
            "errcode",
            "error",
            "push",
            "attempts",
            "created_at",
            "sent_at",
            "finished_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return _status_badge(obj.status, obj.get_status_display(), obj.error)


# Group pushes --------------------------------------------------------------------------------------------------


class TemplatePushForm(forms.ModelForm):
    data = JSONDataField(label=_("data"), help_text=_('{"keyword1": {"value": "…"}, …}; each value at most 20 characters.'))
    openids = forms.CharField(
        label=_("OpenIDs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For the OpenID-list audience: one OpenID per line."),
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
            "openids",
            "scheduled_at",
            "rate_limit",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["scheduled_at"].initial = timezone.now()
        elif isinstance(self.instance.openids, list):
            self.initial["openids"] = "\n".join(self.instance.openids)

    def clean_openids(self):
        return [line.strip() for line in (self.cleaned_data.get("openids") or "").splitlines() if line.strip()]

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
                openids=cleaned.get("openids"),
                url=cleaned.get("url", ""),
                miniprogram_appid=cleaned.get("miniprogram_appid", ""),
                miniprogram_pagepath=cleaned.get("miniprogram_pagepath", ""),
                rate_limit=cleaned.get("rate_limit"),
            )
        except ValidationError as exc:
            _add_errors(self, exc)
        return cleaned


@admin.register(TemplatePush)
class TemplatePushAdmin(AccountScopedAdmin):
    form = TemplatePushForm
    list_display = ["name", "template", "audience_display", "scheduled_at", "status_badge", "progress", "totals"]
    list_filter = ["status", account_scoped_filter("account"), "audience"]
    list_select_related = ["account", "template", "tag"]
    search_fields = ["name"]
    actions = ["cancel", "send_now", "resume"]
    readonly_fields = [
        "status_badge",
        "progress",
        "total",
        "sent_count",
        "success_count",
        "failed_count",
        "last_error",
        "started_at",
        "finished_at",
    ]

    def get_queryset(self, request):
        # Live counts: delivery results keep arriving after the last batch has stored its totals.
        failed = [MessageStatus.FAILED, MessageStatus.FAILED_USER_BLOCK, MessageStatus.FAILED_SYSTEM]
        accepted = [MessageStatus.SENT, MessageStatus.SUCCESS, MessageStatus.FAILED_USER_BLOCK, MessageStatus.FAILED_SYSTEM]
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_count=Count("messages", filter=Q(messages__status__in=[MessageStatus.QUEUED, MessageStatus.SENDING])),
                live_sent=Count("messages", filter=Q(messages__status__in=accepted)),
                live_success=Count("messages", filter=Q(messages__status=MessageStatus.SUCCESS)),
                live_failed=Count("messages", filter=Q(messages__status__in=failed)),
            )
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scoped = accounts_for_user(request.user)
        if db_field.name == "template":
            kwargs["queryset"] = MessageTemplate.objects.filter(account__in=scoped)
        elif db_field.name == "tag":
            kwargs["queryset"] = Tag.objects.filter(account__in=scoped)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != PushStatus.SCHEDULED:
            return [*self.form.Meta.fields, *self.readonly_fields]
        return self.readonly_fields

    def get_fields(self, request, obj=None):
        fields = list(self.form.Meta.fields)
        return fields if obj is None else [*fields, *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        c = form.cleaned_data
        if change:
            if not TemplatePush.objects.filter(pk=obj.pk, status=PushStatus.SCHEDULED).exists():
                raise PermissionDenied
            obj.openids = c.get("openids") or []
            obj.tag = c.get("tag") if obj.audience == TemplatePush.Audience.TAG else None
            obj.save()
            if obj.scheduled_at <= timezone.now():
                services.template_push_enqueue_start(push=obj)
            return
        push = services.template_push_create(
            account=c["account"],
            name=c["name"],
            template=c["template"],
            data=c["data"],
            audience=c["audience"],
            tag=c.get("tag"),
            openids=c.get("openids"),
            scheduled_at=c.get("scheduled_at"),
            url=c.get("url", ""),
            miniprogram_appid=c.get("miniprogram_appid", ""),
            miniprogram_pagepath=c.get("miniprogram_pagepath", ""),
            rate_limit=c.get("rate_limit"),
            created_by=request.user,
        )
        obj.pk = push.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status not in (PushStatus.SCHEDULED, PushStatus.CANCELLED):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("audience"))
    def audience_display(self, obj):
        if obj.audience == TemplatePush.Audience.TAG:
            return format_html("{}: {}", _("tag"), obj.tag or "—")
        if obj.audience == TemplatePush.Audience.OPENIDS:
            return _("%(n)d OpenIDs") % {"n": len(obj.openids or [])}
        return obj.get_audience_display()

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return _status_badge(obj.status, obj.get_status_display(), obj.last_error)

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
        return format_html(
            '<span title="{}">{} / <span style="color:#2f855a">{}</span> / <span style="color:#c53030">{}</span></span>',
            _("of %(total)d receivers") % {"total": obj.total},
            getattr(obj, "live_sent", obj.sent_count),
            getattr(obj, "live_success", obj.success_count),
            getattr(obj, "live_failed", obj.failed_count),
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
