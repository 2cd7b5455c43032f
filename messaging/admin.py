from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from wxsite.admin_utils import AccountScopedAdmin

from .models import InboundMessage


@admin.register(InboundMessage)
class InboundMessageAdmin(AccountScopedAdmin):
    list_display = ["received_at", "account", "openid", "msg_type", "event", "short_content", "reply_sent"]
    list_filter = ["account", "msg_type", "event", "reply_sent", "received_at"]
    search_fields = ["openid", "content", "event_key", "msg_id"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in InboundMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("content"))
    def short_content(self, obj):
        return (obj.content or obj.event_key)[:60]
