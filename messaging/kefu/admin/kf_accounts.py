"""Admin for kf accounts (客服帐号): pushed to WeChat on save, pulled on demand."""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin, account_scoped_filter, sync_badge, wechat_error_message
from accounts.selectors import accounts_for_user
from messaging.kefu import services as customer_service
from messaging.kefu.models import KfAccount
from wechat.errors import WeChatError

KF_PREFIX_RE = re.compile(r"^[A-Za-z0-9_]{1,10}@[A-Za-z0-9_-]{1,30}$")


WEIXIN_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{5,19}$")


JPEG_MAGIC = b"\xff\xd8\xff"


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
