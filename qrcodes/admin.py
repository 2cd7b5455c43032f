"""Back office of QR codes: scenes with their PNG, campaigns with their ZIP, scans; counts and a chart per day."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin, ReadOnlyAdmin, account_scoped_filter, badge, sync_badge
from accounts.selectors import accounts_for_user
from followers.models import Tag
from messaging.autoreply.models import AutoReplyRule
from wechat.api.qrcodes import qrcode_show_url
from wechat.models import SyncStatus

from . import selectors
from .charts import scans_chart
from .models import QRCampaign, QRKind, QRScan, QRScene
from .services import campaigns as campaign_services
from .services import scenes as scene_services


def _actions_clean(form, account) -> None:
    """Tags and the reply rule must be the account's own."""
    if account is None:
        return
    for tag in form.cleaned_data.get("tags") or []:
        if tag.account_id != account.pk:
            form.add_error("tags", _("Choose tags of the same official account."))
            break
    rule = form.cleaned_data.get("reply_rule")
    if rule is not None and rule.account_id != account.pk:
        form.add_error("reply_rule", _("Choose a rule of the same official account."))


class ScopedActionsMixin:
    """Tag, rule and campaign choices limited to the operator's accounts."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "tags":
            kwargs["queryset"] = Tag.objects.filter(account__in=accounts_for_user(request.user)).select_related("account")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "reply_rule":
            kwargs["queryset"] = AutoReplyRule.objects.filter(
                account__in=accounts_for_user(request.user), trigger__in=AutoReplyRule.REPLYING_TRIGGERS
            )
        elif db_field.name == "campaign":
            kwargs["queryset"] = QRCampaign.objects.filter(account__in=accounts_for_user(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class QRSceneForm(forms.ModelForm):
    class Meta:
        model = QRScene
        fields = ["account", "name", "kind", "scene_id", "scene_str", "expire_seconds", "logo", "tags", "reply_rule"]
        help_texts = {
            "scene_id": _("Permanent codes: 1 to 100,000. Temporary codes: any positive 32-bit number."),
            "scene_str": _("Or a scene string of up to 64 characters (give one of the two)."),
            "expire_seconds": _("Temporary codes only: up to 2,592,000 seconds (30 days)."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk and "expire_seconds" in self.fields:
            self.fields["expire_seconds"].initial = scene_services.DEFAULT_EXPIRE_SECONDS

    def clean(self):
        data = super().clean()
        account = data.get("account") or getattr(self.instance, "account", None)
        _actions_clean(self, account)
        if self.instance.pk or account is None:
            return data
        probe = QRScene(
            account=account,
            name=data.get("name") or "",
            kind=data.get("kind") or QRKind.TEMPORARY,
            scene_id=data.get("scene_id"),
            scene_str=data.get("scene_str") or "",
            expire_seconds=data.get("expire_seconds"),
        )
        try:
            scene_services.scene_clean(scene=probe)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return data


def _status(scene: QRScene):
    if scene.sync_status == SyncStatus.SYNCED and scene.is_expired():
        return badge(
            "#718096", _("expired"), _("Expired at %s") % timezone.localtime(scene.expires_at).strftime("%Y-%m-%d %H:%M")
        )
    return sync_badge(scene.sync_status, scene.get_sync_status_display(), scene.last_error)


@admin.register(QRScene)
class QRSceneAdmin(ScopedActionsMixin, AccountScopedAdmin):
    form = QRSceneForm
    list_display = ["name", "scene_key", "kind", "status", "expires_at", "new_count", "existing_count", "campaign", "account"]
    list_filter = [account_scoped_filter("account"), "kind", "sync_status", account_scoped_filter("campaign")]
    search_fields = ["name", "scene_key"]
    list_select_related = ["account", "campaign"]
    filter_horizontal = ["tags"]
    actions = ["renew"]
    readonly_fields = ["status", "scene_key", "code", "ticket", "url", "expires_at", "statistics", "campaign"]

    def get_queryset(self, request):
        return selectors.scenes_with_counts(super().get_queryset(request))

    def get_fieldsets(self, request, obj=None):
        actions = (_("On scan"), {"fields": ["tags", "reply_rule"]})
        if obj is None:
            scene = ["account", "name", "kind", "scene_id", "scene_str", "expire_seconds", "logo"]
            return [(None, {"fields": scene}), actions]
        return [
            (None, {"fields": ["account", "name", "campaign", "kind", "scene_key", "expire_seconds", "logo"]}),
            (_("Code (二维码)"), {"fields": ["status", "code", "ticket", "url", "expires_at"]}),
            actions,
            (_("Scans (扫码统计)"), {"fields": ["statistics"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["account", "kind", "expire_seconds"] if obj else []
        return [*self.readonly_fields, *fixed]

    @admin.display(description=_("status"))
    def status(self, obj):
        return _status(obj)

    @admin.display(description=_("new followers"), ordering="new_count")
    def new_count(self, obj):
        return obj.new_count

    @admin.display(description=_("existing followers"), ordering="existing_count")
    def existing_count(self, obj):
        return obj.existing_count

    @admin.display(description=_("QR code"))
    def code(self, obj):
        if not obj.url:
            return _("Not created on WeChat yet.")
        png = reverse("admin:qrcodes_qrscene_png", args=[obj.pk])
        expired = format_html(' <strong style="color:#c53030">{}</strong>', _("expired")) if obj.is_expired() else ""
        return format_html(
            '<img id="qr-png" src="{}" alt="{}" width="180" height="180" style="image-rendering:pixelated"><br>'
            '<a id="qr-download" href="{}?download=1">{}</a> · <a id="qr-show" href="{}" target="_blank" rel="noopener">{}</a>{}',
            png,
            obj.url,
            png,
            _("Download PNG"),
            qrcode_show_url(obj.ticket),
            _("WeChat's image (showqrcode)"),
            expired,
        )

    @admin.display(description=_("scans per day (last 30 days)"))
    def statistics(self, obj):
        totals = selectors.scene_totals(scene=obj)
        return format_html(
            '<p id="qr-totals">{}: <strong>{}</strong> · {}: <strong>{}</strong> · {}: <strong>{}</strong></p>{}',
            _("new followers"),
            totals.new,
            _("existing followers"),
            totals.existing,
            _("people"),
            totals.people,
            scans_chart(selectors.scene_daily(scene=obj)),
        )

    def save_model(self, request, obj, form, change):
        scene_services.scene_save(scene=obj)

    def get_urls(self):
        return [
            path("<int:pk>/png/", self.admin_site.admin_view(self.png_view), name="qrcodes_qrscene_png"),
            *super().get_urls(),
        ]

    def png_view(self, request, pk: int):
        scene = self.get_queryset(request).filter(pk=pk).first()
        if scene is None or not self.has_view_permission(request, scene) or not scene.url:
            raise Http404
        response = HttpResponse(scene_services.scene_png(scene=scene), content_type="image/png")
        if request.GET.get("download"):
            response["Content-Disposition"] = f'attachment; filename="qrcode-{scene.scene_key}.png"'
        return response

    @admin.action(description=_("Create again on WeChat (expired, failed or waiting codes)"))
    def renew(self, request, queryset):
        waiting = (SyncStatus.FAILED, SyncStatus.PENDING)
        renewed = sum(scene_services.scene_renew(scene=s) for s in queryset if s.sync_status in waiting or s.is_expired())
        messages.info(request, _("%(n)d code(s) queued for WeChat.") % {"n": renewed})


class QRCampaignForm(forms.ModelForm):
    count = forms.IntegerField(
        label=_("number of codes"),
        min_value=1,
        max_value=campaign_services.MAX_CODES_PER_CALL,
        initial=10,
        help_text=_("Codes to create now; on an existing campaign, codes to add."),
    )

    class Meta:
        model = QRCampaign
        fields = ["account", "name", "name_pattern", "scene_prefix", "kind", "expire_seconds", "tags", "reply_rule"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["count"].required = False
            self.fields["count"].initial = None

    def clean(self):
        data = super().clean()
        account = data.get("account") or getattr(self.instance, "account", None)
        _actions_clean(self, account)
        kind = data.get("kind") or getattr(self.instance, "kind", None)
        if not self.instance.pk and kind == QRKind.TEMPORARY:
            expire = data.get("expire_seconds")
            if expire is None or not 1 <= expire <= scene_services.MAX_EXPIRE_SECONDS:
                self.add_error("expire_seconds", _("A temporary code expires after 1 to 2,592,000 seconds (30 days)."))
        return data


@admin.register(QRCampaign)
class QRCampaignAdmin(ScopedActionsMixin, AccountScopedAdmin):
    form = QRCampaignForm
    list_display = ["name", "scene_prefix", "kind", "codes", "account", "created_at"]
    list_filter = [account_scoped_filter("account"), "kind"]
    search_fields = ["name", "scene_prefix"]
    filter_horizontal = ["tags"]
    readonly_fields = ["statistics", "scene_table", "export"]

    def get_fieldsets(self, request, obj=None):
        main = (None, {"fields": ["account", "name", "name_pattern", "scene_prefix", "kind", "expire_seconds", "count"]})
        actions = (_("On scan"), {"fields": ["tags", "reply_rule"]})
        if obj is None:
            return [main, actions]
        return [main, actions, (_("Scans (扫码统计)"), {"fields": ["export", "statistics", "scene_table"]})]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["account", "scene_prefix", "kind", "expire_seconds"] if obj else []
        return [*self.readonly_fields, *fixed]

    @admin.display(description=_("codes"))
    def codes(self, obj):
        return obj.scenes.count()

    @admin.display(description=_("export"))
    def export(self, obj):
        return format_html(
            '<a id="qr-export" class="button" href="{}">{}</a>',
            reverse("admin:qrcodes_qrcampaign_export", args=[obj.pk]),
            _("Download ZIP (PNGs + CSV)"),
        )

    @admin.display(description=_("scans per day (last 30 days)"))
    def statistics(self, obj):
        totals = selectors.campaign_totals(campaign=obj)
        return format_html(
            '<p id="qr-totals">{}: <strong>{}</strong> · {}: <strong>{}</strong> · {}: <strong>{}</strong></p>{}',
            _("new followers"),
            totals.new,
            _("existing followers"),
            totals.existing,
            _("people"),
            totals.people,
            scans_chart(selectors.campaign_daily(campaign=obj)),
        )

    @admin.display(description=_("codes"))
    def scene_table(self, obj):
        rows = selectors.scenes_with_counts(obj.scenes.order_by("id"))
        body = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:qrcodes_qrscene_change", args=[s.pk]),
                    s.name,
                    s.scene_key,
                    _status(s),
                    s.new_count,
                    s.existing_count,
                )
                for s in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("name"),
            _("scene"),
            _("status"),
            _("new followers"),
            _("existing followers"),
            body,
        )

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
        else:
            obj.full_clean(exclude=["tags", "reply_rule"])
            obj.save()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        count = form.cleaned_data.get("count")
        if count:
            try:
                campaign_services.campaign_codes_add(campaign=form.instance, count=count)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.info(request, _("%(n)d code(s) queued for WeChat.") % {"n": count})

    def get_urls(self):
        return [
            path("<int:pk>/export/", self.admin_site.admin_view(self.export_view), name="qrcodes_qrcampaign_export"),
            *super().get_urls(),
        ]

    def export_view(self, request, pk: int):
        campaign = self.get_queryset(request).filter(pk=pk).first()
        if campaign is None or not self.has_view_permission(request, campaign):
            raise Http404
        response = HttpResponse(campaign_services.campaign_zip(campaign=campaign), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="qrcodes-{campaign.scene_prefix.strip("_") or campaign.pk}.zip"'
        return response


@admin.register(QRScan)
class QRScanAdmin(ReadOnlyAdmin):
    list_display = ["scanned_at", "scene", "openid", "kind", "tags_added", "reply", "note", "account"]
    list_filter = [account_scoped_filter("account"), "kind", account_scoped_filter("scene")]
    search_fields = ["openid", "scene__name", "scene__scene_key"]
    list_select_related = ["scene", "account"]
    date_hierarchy = "scanned_at"
