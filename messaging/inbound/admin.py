"""Admin for the inbound message log (消息记录) and a follower's conversation thread."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin, account_scoped_filter
from accounts.selectors import accounts_for_user
from wechat.crypto import CallbackError, parse_xml
from wechat.errors import describe

from . import selectors
from .models import InboundMessage


def _reply_summary(reply_xml: str) -> dict | None:
    if not reply_xml:
        return None
    try:
        data = parse_xml(reply_xml, max_bytes=1 << 20)
    except CallbackError:
        return {"type": "?", "text": reply_xml[:200]}
    msg_type = str(data.get("MsgType") or "")
    if msg_type == "text":
        text = data.get("Content") or ""
    elif msg_type == "news":
        items = (data.get("Articles") or {}).get("item") or []
        items = items if isinstance(items, list) else [items]
        text = " / ".join(str(i.get("Title") or "") for i in items if isinstance(i, dict))
    elif msg_type in ("image", "voice", "video"):
        text = str((data.get(msg_type.capitalize()) or {}).get("MediaId") or "")
    elif msg_type == "music":
        text = str((data.get("Music") or {}).get("Title") or "")
    elif msg_type == "transfer_customer_service":
        text = str(((data.get("TransInfo") or {}).get("KfAccount")) or _("any agent"))
    else:
        text = ""
    return {"type": msg_type, "text": text}


class InboundThreadMixin:
    """A follower's conversation, oldest first, with the reply each message got."""

    THREAD_LIMIT = 500

    def get_urls(self):
        urls = [
            path(
                "thread/<int:account_id>/<str:openid>/",
                self.admin_site.admin_view(self.thread_view),
                name="inbound_inboundmessage_thread",
            )
        ]
        return urls + super().get_urls()

    def thread_view(self, request, account_id: int, openid: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        account = get_object_or_404(accounts_for_user(request.user), pk=account_id)
        rows = selectors.follower_messages(account=account, openid=openid, limit=self.THREAD_LIMIT)
        entries = [{"message": m, "reply": _reply_summary(m.reply_xml)} for m in rows]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Conversation with %(openid)s") % {"openid": openid},
            "opts": self.model._meta,
            "account": account,
            "openid": openid,
            "entries": entries,
            "limit": self.THREAD_LIMIT,
        }
        return TemplateResponse(request, "admin/inbound/inboundmessage/thread.html", context)

    @admin.display(description=_("conversation"))
    def thread_link(self, obj):
        url = reverse("admin:inbound_inboundmessage_thread", args=[obj.account_id, obj.openid])
        return format_html('<a href="{}">{}</a>', url, _("thread"))


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
    list_select_related = ["account", "matched_rule"]
    search_fields = ["=openid", "content", "event_key", "msg_id"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in InboundMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("content"))
    def short_content(self, obj):
        return (obj.content or obj.event_key)[:60]

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
