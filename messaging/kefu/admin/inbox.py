"""The customer-service inbox (客服消息): conversations, a follower's thread and the reply form."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Sum
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin
from accounts.selectors import accounts_for_user
from media_assets.forms import library_refusal, picker_attach
from media_assets.previews import preview
from messaging.kefu import selectors as kefu_selectors
from messaging.kefu import services as customer_service
from messaging.kefu.models import Conversation
from wechat.errors import describe
from wechat.outgoing import Article, Image, MiniProgramPage, News, OutgoingMessage, Text, custom_payloads, summary

from .outbound import STATUS_COLOURS


class ReplyForm(forms.Form):
    KINDS = [
        ("text", _("Text (文字)")),
        ("image", _("Image (图片)")),
        ("news", _("Article link (图文消息)")),
        ("miniprogrampage", _("Mini-program card (小程序卡片)")),
    ]
    REQUIRED = {
        "text": ["content"],
        "image": ["media_id"],
        "news": ["title", "url"],
        "miniprogrampage": ["appid", "pagepath", "mp_title", "thumb_media_id"],
    }

    # What the media library may supply for each media field (checked: a media_id it lacks is refused).
    LIBRARY_KINDS = {"media_id": ["image"], "thumb_media_id": ["thumb", "image"]}

    kind = forms.ChoiceField(label=_("type"), choices=KINDS, initial="text", widget=forms.RadioSelect)
    content = forms.CharField(label=_("text"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    media_id = forms.CharField(label=_("image media_id"), required=False, max_length=128)
    title = forms.CharField(label=_("title"), required=False, max_length=64)
    description = forms.CharField(label=_("description"), required=False, max_length=120)
    url = forms.URLField(label=_("link URL"), required=False, max_length=1000)
    picurl = forms.URLField(label=_("picture URL"), required=False, max_length=1000)
    appid = forms.CharField(label=_("mini-program AppID"), required=False, max_length=32)
    pagepath = forms.CharField(label=_("page path"), required=False, max_length=256)
    mp_title = forms.CharField(label=_("card title"), required=False, max_length=64)
    thumb_media_id = forms.CharField(label=_("thumbnail media_id"), required=False, max_length=128)
    kf_account = forms.ChoiceField(label=_("send as (客服帐号)"), required=False)

    def __init__(self, *args, conversation: Conversation, **kwargs):
        super().__init__(*args, **kwargs)
        self.conversation = conversation
        kf_accounts = kefu_selectors.kf_accounts_for_reply(account=conversation.account)
        self.fields["kf_account"].choices = [("", _("(the account itself)"))] + [(kf.kf_account, str(kf)) for kf in kf_accounts]
        accounts = [conversation.account]
        picker_attach(self.fields["media_id"], accounts=accounts, kinds=self.LIBRARY_KINDS["media_id"])
        picker_attach(self.fields["thumb_media_id"], accounts=accounts, kinds=self.LIBRARY_KINDS["thumb_media_id"])

    def clean(self):
        cleaned = super().clean()
        for name in self.REQUIRED.get(cleaned.get("kind"), []):
            if not str(cleaned.get(name) or "").strip():
                self.add_error(name, _("Required for this type of message."))
            elif name in self.LIBRARY_KINDS and (
                message := library_refusal(
                    account=self.conversation.account, media_id=cleaned[name], kinds=self.LIBRARY_KINDS[name]
                )
            ):
                self.add_error(name, message)
        window = kefu_selectors.reply_window(account=self.conversation.account, openid=self.conversation.openid)
        if not window.is_open:
            raise ValidationError(window.explanation)
        return cleaned

    def message(self) -> OutgoingMessage:
        data = self.cleaned_data
        kind = data["kind"]
        if kind == "text":
            return Text(data["content"])
        if kind == "image":
            return Image(data["media_id"])
        if kind == "news":
            fields = {k: data.get(k) or "" for k in ("title", "description", "url", "picurl")}
            return News((Article(**fields),))
        if kind == "miniprogrampage":
            return MiniProgramPage(
                appid=data["appid"], pagepath=data["pagepath"], title=data["mp_title"], thumb_media_id=data["thumb_media_id"]
            )
        raise ValueError(f"unknown reply kind {kind!r}")

    def payload(self) -> dict:
        """The one customer-service message the reply is (a single-article news, text, image or card)."""
        (payload,) = custom_payloads(self.message())
        return payload


@admin.register(Conversation)
class ConversationAdmin(AccountScopedAdmin):
    """The customer-service inbox: conversations newest first; a conversation opens as its thread."""

    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        typing = path("<int:object_id>/typing/", self.admin_site.admin_view(self.typing_view), name="kefu_conversation_typing")
        # A follower's thread by account and OpenID: what the message log and the follower page link to.
        thread = path(
            "thread/<int:account_id>/<str:openid>/",
            self.admin_site.admin_view(self.follower_thread_view),
            name="kefu_conversation_thread",
        )
        return [typing, thread, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        accounts = accounts_for_user(request.user)
        account_id = request.GET.get("account", "")
        selected = accounts.filter(pk=account_id).first() if account_id.isdigit() else None
        search = request.GET.get("q", "").strip()
        unread_only = request.GET.get("unread") == "1"
        qs = kefu_selectors.conversations_for_accounts(
            accounts=[selected] if selected else accounts, search=search, unread_only=unread_only
        )
        page = Paginator(qs, self.list_per_page).get_page(request.GET.get("p"))
        conversations = list(page.object_list)
        remarks = kefu_selectors.follower_remarks(conversations=conversations)
        windows = kefu_selectors.reply_windows(conversations=conversations)
        last_media = kefu_selectors.conversations_last_media(conversations=conversations)
        rows = [
            {
                "conversation": c,
                "label": remarks.get((c.account_id, c.openid), ""),
                "window": windows[c.pk],
                "media": preview(last_media.get((c.account_id, c.openid)), size=40),
                "url": reverse("admin:kefu_conversation_change", args=[c.pk]),
            }
            for c in conversations
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Customer-service inbox (客服消息)"),
            "rows": rows,
            "page": page,
            "accounts": accounts,
            "selected_account": selected,
            "search": search,
            "unread_only": unread_only,
            "total_unread": qs.aggregate(total=Sum("unread_count"))["total"] or 0,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/kefu/inbox/index.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        conversation = self.get_object(request, object_id)
        if conversation is None:
            raise Http404
        if not self.has_view_or_change_permission(request, conversation):
            raise PermissionDenied
        can_reply = self.has_change_permission(request, conversation)
        if request.method == "POST":
            if not can_reply:
                raise PermissionDenied
            form = ReplyForm(request.POST, conversation=conversation)
            if form.is_valid():
                try:
                    with transaction.atomic():
                        customer_service.operator_reply_queue(
                            account=conversation.account,
                            openid=conversation.openid,
                            payload=form.payload(),
                            kf_account=form.cleaned_data.get("kf_account") or "",
                            operator=request.user,
                        )
                except customer_service.ReplyWindowClosed as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, _("Reply queued; its status shows in the thread."))
                    return HttpResponseRedirect(request.path)
        else:
            form = ReplyForm(conversation=conversation)
        items = kefu_selectors.follower_thread(account=conversation.account, openid=conversation.openid)
        if request.method == "GET":
            shown = [item.at for item in items if item.inbound is not None]
            customer_service.conversation_mark_read(conversation=conversation, up_to=max(shown, default=None))
        context = {
            "conversation": conversation,
            "form": form,
            "typing_url": reverse("admin:kefu_conversation_typing", args=[conversation.pk]),
            **(extra_context or {}),
        }
        return self._thread_response(request, conversation.account, conversation.openid, items, can_reply, context)

    def follower_thread_view(self, request, account_id: int, openid: str):
        """The conversation page of a follower; read-only for a follower who has no conversation in the inbox."""
        account = get_object_or_404(accounts_for_user(request.user), pk=account_id)
        conversation = kefu_selectors.conversation_for_follower(account=account, openid=openid)
        if conversation is not None:
            return HttpResponseRedirect(reverse("admin:kefu_conversation_change", args=[conversation.pk]))
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        items = kefu_selectors.follower_thread(account=account, openid=openid)
        return self._thread_response(request, account, openid, items, False, {})

    def _thread_response(self, request, account, openid: str, items, can_reply: bool, extra: dict):
        window = kefu_selectors.reply_window(account=account, openid=openid)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": kefu_selectors.follower_label(account=account, openid=openid),
            "account": account,
            "openid": openid,
            "items": [_thread_row(item) for item in items],
            "window": window,
            "can_reply": can_reply and window.is_open,
            "inbox_url": reverse("admin:kefu_conversation_changelist"),
            **extra,
        }
        return TemplateResponse(request, "admin/kefu/inbox/thread.html", context)

    def typing_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        conversation = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, conversation):
            raise PermissionDenied
        queued = customer_service.typing_request(account=conversation.account, openid=conversation.openid)
        return JsonResponse({"queued": queued})


# Colours of template-message and mass-batch statuses in the thread: delivered or accepted, failed, still going.
SENT_OK = {"success", "sent", "submitted", "finished"}
SENT_FAILED = {"failed", "failed_user_block", "failed_system", "cancelled"}
SENT_LABELS = {
    kefu_selectors.SENT_TEMPLATE: (_("template message (模板消息)"), "admin:templatemsg_templatemessage_change"),
    kefu_selectors.SENT_MASS: (_("mass send (群发)"), "admin:mass_massmessage_change"),
}


def _sent_row(item: kefu_selectors.ThreadItem) -> dict:
    sent = item.sent
    label, url_name = SENT_LABELS[sent.kind]
    if sent.status in SENT_OK:
        colour = STATUS_COLOURS["sent"]
    elif sent.status in SENT_FAILED:
        colour = STATUS_COLOURS["failed"]
    else:
        colour = STATUS_COLOURS.get(sent.status, STATUS_COLOURS["queued"])
    info = describe(sent.errcode) if sent.errcode else None
    return {
        "at": item.at,
        "side": "sent",
        "kind": sent.kind,
        "kind_label": label,
        "sent": sent,
        "url": reverse(url_name, args=[sent.pk]),
        "status_colour": colour,
        "error_zh": info.zh if info else "",
        "error_en": info.en if info else sent.error,
    }


def _thread_row(item: kefu_selectors.ThreadItem) -> dict:
    if item.sent is not None:
        return _sent_row(item)
    if item.inbound is not None:
        m = item.inbound
        row = {"at": item.at, "side": "in", "kind": m.event or m.msg_type, "text": _inbound_text(m), "payload": m.payload}
        if m.received_media_id:
            row["media"] = preview(m.received_media, size=240)
        if item.reply is not None:
            row["reply"] = item.reply
            row["rule"] = m.matched_rule
        elif m.matched_rule is not None:
            row["rule"] = m.matched_rule
        return row
    m = item.outbound
    body = m.payload.get(m.msgtype) or {}
    info = m.error_info
    return {
        "at": item.at,
        "side": "out",
        "kind": m.msgtype,
        "text": summary(m.payload),
        "body": body,
        "outbound": m,
        "status_colour": STATUS_COLOURS.get(m.status, "#4a5568"),
        "error_zh": info.zh if info else "",
        "error_en": info.en if info else "",
    }


def _inbound_text(m) -> str:
    if m.msg_type == "event":
        return f"{m.event} {m.event_key}".strip()
    return m.content
