"""Admin for the inbound message log (消息记录); each row links to the follower's thread in customer service."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin, account_scoped_filter
from media_assets.previews import preview
from wechat.errors import describe

from .models import InboundMessage


@admin.register(InboundMessage)
class InboundMessageAdmin(AccountScopedAdmin):
    list_display = [
        "received_at",
        "account",
        "openid",
        "msg_type",
        "event",
        "short_content",
        "received_file",
        "reply_sent",
        "matched_rule",
        "thread_link",
        "effect_failures_badge",
    ]
    list_filter = [
        account_scoped_filter("account"),
        "msg_type",
        "event",
        "reply_sent",
        account_scoped_filter("matched_rule"),
        "received_at",
    ]
    list_select_related = ["account", "matched_rule", "received_media"]
    search_fields = ["=openid", "content", "event_key", "msg_id"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in InboundMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("conversation"))
    def thread_link(self, obj):
        # The one thread view is customer service's; linked by URL name, inbound does not import it.
        url = reverse("admin:kefu_conversation_thread", args=[obj.account_id, obj.openid])
        return format_html('<a href="{}">{}</a>', url, _("thread"))

    @admin.display(description=_("content"))
    def short_content(self, obj):
        return (obj.content or obj.event_key)[:60]

    @admin.display(description=_("file"))
    def received_file(self, obj):
        """The picture, voice or video a follower sent, kept by the media library."""
        return preview(obj.received_media, size=64) if obj.received_media_id else ""

    @admin.display(description=_("side effects"))
    def effect_failures_badge(self, obj):
        failures = list(obj.effect_failures.all())
        if not failures:
            return ""
        lines = []
        for failure in failures:
            meaning = ""
            if failure.errcode is not None:
                info = describe(failure.errcode)
                meaning = f" errcode {failure.errcode}: {info.zh} / {info.en}"
            state = _("given up") if failure.next_attempt_at is None else _("retrying")
            lines.append(f"{failure.effect} ({state}, {failure.attempts}×){meaning} {failure.last_error}")
        return format_html(
            '<span class="effect-failed" style="background:#ba2121;color:#fff;padding:1px 6px;border-radius:8px" title="{}">{}</span>',
            "\n".join(lines),
            _("%(n)d failed") % {"n": len(failures)},
        )
