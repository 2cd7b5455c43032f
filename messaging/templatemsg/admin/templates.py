"""Admin for the account's templates (我的模板): add from the library, pull, delete."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin, account_scoped_filter, sync_badge, wechat_error_message
from accounts.models import OfficialAccount
from accounts.selectors import accounts_for_user
from messaging.templatemsg import services
from messaging.templatemsg.models import MessageTemplate
from wechat.errors import WeChatError

from .common import wechat_error_text


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
            raise ValidationError(wechat_error_text(exc)) from exc
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
