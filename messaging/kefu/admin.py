"""Admin for customer service (客服消息): kf accounts, the inbox of conversations and the thread with its reply form."""

from __future__ import annotations

import re

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
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import Follower
from accounts.selectors import accounts_for_user
from messaging.kefu import selectors as kefu_selectors
from messaging.kefu import services as customer_service
from wechat.errors import WeChatError
from wxsite.admin_utils import AccountScopedAdmin, ReadOnlyAdmin, account_scoped_filter, badge, sync_badge, wechat_error_message

from .models import Conversation, KfAccount, OutboundMessage

KF_PREFIX_RE = re.compile(r"^[A-Za-z0-9_]{1,10}@[A-Za-z0-9_-]{1,30}$")
WEIXIN_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{5,19}$")
JPEG_MAGIC = b"\xff\xd8\xff"

STATUS_COLOURS = {"queued": "#b7791f", "sending": "#2b6cb0", "sent": "#2f855a", "failed": "#c53030", "unknown": "#6b46c1"}


# ---------------------------------------------------------------------------------------------
# kf accounts


class KfAccountForm(forms.ModelForm):
    class Meta:
        model = KfAccount
        fields = ["account", "kf_account", "nickname", "invite_wx", "avatar"]

    def clean_kf_account(self):
        value = self.cleaned_data["kf_account"].strip()
        if not KF_PREFIX_RE.match(value):
            raise ValidationError(
                _("Use prefix@weixin-id: a prefix of up to 10 letters, digits or _, then @ and the account's WeChat ID.")
            )
        return value

    def clean_nickname(self):
        value = self.cleaned_data["nickname"].strip()
        if not value:
            raise ValidationError(_("The nickname cannot be empty."))
        return value

    def clean_invite_wx(self):
        value = self.cleaned_data.get("invite_wx", "").strip()
        if value and not WEIXIN_ID_RE.match(value):
            raise ValidationError(_("A WeChat ID has 6 to 20 letters, digits, _ or -, and starts with a letter."))
        return value

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar and "avatar" in self.changed_data:
            head = avatar.read(3)
            avatar.seek(0)
            if head != JPEG_MAGIC:
                raise ValidationError(_("WeChat takes kf avatars as JPEG images only."))
        return avatar

    def clean(self):
        cleaned = super().clean()
        account = cleaned.get("account")
        if account and not self.instance.pk:
            if KfAccount.objects.filter(account=account).count() >= KfAccount.MAX_PER_ACCOUNT:
                raise ValidationError(_("An official account has at most 100 kf accounts (WeChat error 65405)."))
        return cleaned


@admin.register(KfAccount)
class KfAccountAdmin(AccountScopedAdmin):
    form = KfAccountForm
    change_list_template = "admin/kefu/inbox/kf_change_list.html"
    list_display = ["account_with_avatar", "binding", "sync_state"]
    list_display_links = ["account_with_avatar"]
    list_filter = [account_scoped_filter("account"), "sync_status", "invite_status"]
    search_fields = ["kf_account", "nickname", "kf_wx", "invite_wx"]
    list_select_related = ["account"]
    actions = ["sync_selected"]
    readonly_fields = [
        "kf_id",
        "headimg_url",
        "kf_wx",
        "invite_status",
        "invite_expire_time",
        "online_status",
        "accepted_case",
        "sync_status",
        "synced_at",
        "last_error",
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.exists_at_wechat:
            fields = ["account", "kf_account", *fields]  # WeChat cannot rename a kf account
        return fields

    def get_urls(self):
        urls = super().get_urls()
        pull = path("pull/", self.admin_site.admin_view(self.pull_view), name="kefu_kfaccount_pull")
        return [pull, *urls]

    def save_model(self, request, obj, form, change):
        customer_service.kf_account_save(
            kf=obj, avatar_changed="avatar" in form.changed_data, invite_changed="invite_wx" in form.changed_data
        )

    def delete_model(self, request, obj):
        customer_service.kf_account_delete_request(kf=obj)

    def delete_queryset(self, request, queryset):
        for kf in queryset:
            customer_service.kf_account_delete_request(kf=kf)

    @admin.action(description=_("Sync selected kf accounts with WeChat"))
    def sync_selected(self, request, queryset):
        for kf in queryset:
            customer_service.kf_account_sync_request(kf=kf)
        self.message_user(request, _("Sync queued for %(count)s kf accounts.") % {"count": queryset.count()})

    def pull_view(self, request):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:kefu_kfaccount_changelist"))
        if not self.has_change_permission(request):
            raise PermissionDenied
        for account in accounts_for_user(request.user):
            try:
                count = customer_service.kf_accounts_pull(account=account)
            except WeChatError as exc:
                wechat_error_message(request, exc, action=str(account))
                continue
            self.message_user(request, _("%(account)s: %(count)s kf accounts at WeChat.") % {"account": account, "count": count})
        return HttpResponseRedirect(reverse("admin:kefu_kfaccount_changelist"))

    @admin.display(description=_("kf account (客服帐号)"), ordering="nickname")
    def account_with_avatar(self, obj):
        url = obj.avatar.url if obj.avatar else obj.headimg_url
        avatar = (
            format_html(
                '<img src="{}" alt="" style="width:32px;height:32px;border-radius:50%;object-fit:cover">',
                url,
            )
            if url
            else mark_safe(
                '<span style="display:inline-block;width:32px;height:32px;border-radius:50%;background:#cbd5e0"></span>'
            )
        )
        work_id = format_html(" · #{}", obj.kf_id) if obj.kf_id else ""
        return format_html(
            '<span style="display:inline-flex;gap:8px;align-items:center">{}<span><strong>{}</strong>'
            '<br><span class="help" style="white-space:nowrap">{}{}</span></span></span>',
            avatar,
            obj.nickname,
            obj.kf_account,
            work_id,
        )

    @admin.display(description=_("bound WeChat (绑定微信)"))
    def binding(self, obj):
        if obj.kf_wx:
            online = _("online (在线)") if obj.online_status else _("offline (离线)")
            colour = "#2f855a" if obj.online_status else "#a0aec0"
            return format_html('<span style="color:{}">●</span> {} · {}', colour, obj.kf_wx, online)
        if obj.invite_wx:
            status = obj.get_invite_status_display() if obj.invite_status else _("invitation not sent yet")
            return f"{obj.invite_wx} · {status}"
        return "—"

    @admin.display(description=_("sync status"), ordering="sync_status")
    def sync_state(self, obj):
        if obj.delete_requested:
            badge = sync_badge("pending", _("deletion pending"), obj.last_error)
        else:
            badge = sync_badge(obj.sync_status, obj.get_sync_status_display(), obj.last_error)
        return format_html('<span style="white-space:nowrap">{}</span>', badge)


# ---------------------------------------------------------------------------------------------
# Inbox and thread


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

    def clean(self):
        cleaned = super().clean()
        for name in self.REQUIRED.get(cleaned.get("kind"), []):
            if not str(cleaned.get(name) or "").strip():
                self.add_error(name, _("Required for this type of message."))
        window = kefu_selectors.reply_window(account=self.conversation.account, openid=self.conversation.openid)
        if not window.is_open:
            raise ValidationError(window.explanation)
        return cleaned

    def payload(self) -> dict:
        data = dict(self.cleaned_data)
        data["title"] = data["mp_title"] if data["kind"] == "miniprogrampage" else data["title"]
        return customer_service.reply_payload(kind=data["kind"], fields=data)


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
        return [typing, *super().get_urls()]

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
        remarks = dict(
            Follower.objects.filter(
                account_id__in={c.account_id for c in conversations}, openid__in=[c.openid for c in conversations]
            )
            .exclude(remark="")
            .values_list("openid", "remark")
        )
        rows = [
            {
                "conversation": c,
                "label": remarks.get(c.openid, ""),
                "window": kefu_selectors.window_for_conversation(c),
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
        items = kefu_selectors.conversation_thread(conversation=conversation)
        if request.method == "GET":
            shown = [item.at for item in items if item.inbound is not None]
            customer_service.conversation_mark_read(conversation=conversation, up_to=max(shown, default=None))
        window = kefu_selectors.reply_window(account=conversation.account, openid=conversation.openid)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": kefu_selectors.follower_label(account=conversation.account, openid=conversation.openid),
            "conversation": conversation,
            "items": [_thread_row(item) for item in items],
            "window": window,
            "form": form,
            "can_reply": can_reply and window.is_open,
            "typing_url": reverse("admin:kefu_conversation_typing", args=[conversation.pk]),
            "inbox_url": reverse("admin:kefu_conversation_changelist"),
            **(extra_context or {}),
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


def _thread_row(item: kefu_selectors.ThreadItem) -> dict:
    if item.inbound is not None:
        m = item.inbound
        return {"at": item.at, "side": "in", "kind": m.event or m.msg_type, "text": _inbound_text(m), "payload": m.payload}
    m = item.outbound
    body = m.payload.get(m.msgtype) or {}
    info = m.error_info
    return {
        "at": item.at,
        "side": "out",
        "kind": m.msgtype,
        "text": customer_service.outbound_preview(m.payload),
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
