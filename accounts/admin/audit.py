"""The audit trail in the back office (系统 / 审计): read-only and searchable; operators see their accounts' entries.

No one edits an entry; no one deletes them in bulk; only a superuser may delete a single entry.
"""

import auditlog.admin  # noqa: F401  (registers its own admin for the entry model first; replaced below)
from auditlog.filters import ResourceTypeFilter
from auditlog.mixins import LogEntryAdminMixin
from auditlog.render import get_field_verbose_name
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin, ReadOnlyAdmin, account_scoped_filter, badge
from wechat.errors import describe

from ..models import AuditEntry


class ResultFilter(admin.SimpleListFilter):
    title = _("WeChat result")
    parameter_name = "result"

    def lookups(self, request, model_admin):
        return [("ok", _("accepted")), ("error", _("refused or no answer"))]

    def queryset(self, request, queryset):
        if self.value() == "ok":
            return queryset.filter(action=AuditEntry.Action.WECHAT_CALL, errcode=0)
        if self.value() == "error":
            return queryset.filter(action=AuditEntry.Action.WECHAT_CALL).exclude(errcode=0)
        return queryset


class KeptLogAdmin:
    """A log nobody edits or deletes in bulk; a superuser may delete a single row."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser and obj is not None


if admin.site.is_registered(AuditEntry):
    admin.site.unregister(AuditEntry)


@admin.register(AuditEntry)
class AuditEntryAdmin(KeptLogAdmin, LogEntryAdminMixin, ReadOnlyAdmin):
    date_hierarchy = "timestamp"
    list_display = ["created", "user_url", "action", "resource_url", "what", "result", "account"]
    list_filter = ["action", ResultFilter, account_scoped_filter("account"), ResourceTypeFilter]
    list_select_related = ["content_type", "actor", "account"]
    search_fields = ["object_repr", "endpoint", "changes", "actor__username", "actor__email", "remote_addr", "cid"]
    readonly_fields = ["created", "user_url", "remote_addr", "account", "resource_url", "action", "endpoint", "result", "msg"]
    fieldsets = [
        (None, {"fields": ["created", "user_url", "remote_addr", "account", "resource_url"]}),
        (_("Changes"), {"fields": ["action", "endpoint", "result", "msg"]}),
    ]

    def get_queryset(self, request):
        self.request = request  # LogEntryAdminMixin builds filter links from it
        if request.user.is_superuser:  # entries of no account too (users, groups)
            return super(AccountScopedAdmin, self).get_queryset(request)
        return super().get_queryset(request)

    @admin.display(description=_("User"))
    def user_url(self, obj):
        return super().user_url(obj) if obj.actor_id else _("system")

    @admin.display(description=_("what"))
    def what(self, obj):
        if obj.action == AuditEntry.Action.WECHAT_CALL:
            return f"{(obj.additional_data or {}).get('method', '')} {obj.endpoint}".strip()
        if obj.action == AuditEntry.Action.DELETE:
            return ""
        return "、".join(str(get_field_verbose_name(obj, name)) for name in obj.changes_dict)

    @admin.display(description=_("result"))
    def result(self, obj):
        if obj.action != AuditEntry.Action.WECHAT_CALL:
            return ""
        if obj.errcode == 0:
            return badge("#2f855a", _("accepted"))
        info = describe(obj.errcode)
        return badge("#c53030", f"{obj.errcode} {info.zh}", f"{info.en} ({obj.additional_data.get('errmsg', '')})")
