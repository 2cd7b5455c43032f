from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin, account_scoped_filter, sync_badge
from followers.models import FollowerOperation
from followers.services import operations
from wechat.models import SyncStatus


@admin.register(FollowerOperation)
class FollowerOperationAdmin(AccountScopedAdmin):
    list_display = ["created_at", "account", "kind", "tag", "size", "sync_state", "created_by"]
    list_filter = [account_scoped_filter("account"), "kind", "sync_status"]
    list_select_related = ["account", "tag", "created_by"]
    actions = ["retry"]
    readonly_fields = [
        "account",
        "kind",
        "tag",
        "openids",
        "remark",
        "sync_state",
        "synced_at",
        "last_error",
        "created_by",
        "created_at",
    ]
    exclude = ["sync_status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("followers"))
    def size(self, obj):
        return len(obj.openids)

    @admin.display(description=_("WeChat sync"), ordering="sync_status")
    def sync_state(self, obj):
        return sync_badge(obj.sync_status, obj.get_sync_status_display(), obj.last_error)

    @admin.action(description=_("Send failed changes again (重试)"), permissions=["view"])
    def retry(self, request, queryset):
        count = operations.follower_operations_retry(operations=queryset.filter(sync_status=SyncStatus.FAILED))
        messages.success(request, _("%(count)d change(s) queued again.") % {"count": count})
