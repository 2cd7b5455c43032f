"""Admin log of customer-service messages sent (客服消息记录)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import ReadOnlyAdmin, account_scoped_filter, badge
from messaging.kefu.models import OutboundMessage

STATUS_COLOURS = {"queued": "#b7791f", "sending": "#2b6cb0", "sent": "#2f855a", "failed": "#c53030", "unknown": "#6b46c1"}


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "openid", "msgtype", "source", "status_badge", "error", "operator", "sent_at"]
    list_filter = [account_scoped_filter("account"), "status", "source", "msgtype", "created_at"]
    search_fields = ["=openid", "kf_account"]
    list_select_related = ["account", "operator"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboundMessage._meta.fields]

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return badge(STATUS_COLOURS.get(obj.status, ""), obj.get_status_display(), obj.errmsg)

    @admin.display(description=_("WeChat error"))
    def error(self, obj):
        info = obj.error_info
        return f"{obj.errcode}: {info.zh} / {info.en}" if info else "—"
