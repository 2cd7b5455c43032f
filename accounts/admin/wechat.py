"""The wechat app's records (tokens, API call log) in the back office; their admin URLs stay under /admin/wechat/."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin.audit import KeptLogAdmin
from accounts.admin_base import ReadOnlyAdmin, account_scoped_filter
from wechat.errors import describe
from wechat.models import AccessToken, ApiCallLog


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnlyAdmin):
    list_display = ["account", "kind", "expires_at", "refreshed_at", "refresh_count", "last_error"]
    list_filter = ["kind"]
    exclude = ["value"]  # tokens are never shown in the back office


@admin.register(ApiCallLog)
class ApiCallLogAdmin(KeptLogAdmin, ReadOnlyAdmin):
    list_display = ["created_at", "account", "method", "endpoint", "errcode", "meaning", "duration_ms"]
    list_filter = ["errcode", "method", account_scoped_filter("account")]
    search_fields = ["endpoint", "errmsg"]
    date_hierarchy = "created_at"

    @admin.display(description=_("meaning"))
    def meaning(self, obj):
        if obj.errcode == 0:
            return "ok"
        info = describe(obj.errcode)
        return f"{info.zh} / {info.en}"
