from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from wxsite.admin_utils import AccountScopedAdmin, account_scoped_filter

from .admin_rules import AutoReplyRuleAdmin, InboundThreadMixin  # noqa: F401  AutoReplyRuleAdmin registers itself
from .models import InboundMessage


@admin.register(InboundMessage)
class InboundMessageAdmin(InboundThreadMixin, AccountScopedAdmin):
    list_display = [
        "received_at",
        "account",
        "openid",
        "msg_type",
        "event",
        "short_content",
        "reply_sent",
        "matched_rule",
        "thread_link",
    ]
    list_filter = [
        account_scoped_filter("account"),
        "msg_type",
        "event",
        "reply_sent",
        account_scoped_filter("matched_rule"),
        "received_at",
    ]
    list_select_related = ["account", "matched_rule"]
    search_fields = ["=openid", "content", "event_key", "msg_id"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in InboundMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("content"))
    def short_content(self, obj):
        return (obj.content or obj.event_key)[:60]


from . import admin_templates  # noqa: E402, F401  template messages (模板消息)
from .admin_customer_service import ConversationAdmin, KfAccountAdmin, OutboundMessageAdmin  # noqa: E402, F401
from .admin_mass import MassMessageAdmin  # noqa: E402, F401  -- registers the mass-send admin
