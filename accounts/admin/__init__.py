import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import ModelAdmin, wechat_error_message
from wechat import tokens
from wechat.errors import WeChatError

from .. import services
from ..models import OfficialAccount
from ..selectors import accounts_for_user
from . import audit, wechat  # noqa: F401  (the audit trail; the wechat app's models)

logger = logging.getLogger(__name__)


class OfficialAccountForm(forms.ModelForm):
    """AppSecret and EncodingAESKey are write-only: never rendered back; left empty, they keep their value."""

    app_secret = forms.CharField(
        label=_("AppSecret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Write-only. Leave empty to keep the stored secret."),
    )
    encoding_aes_key = forms.CharField(
        label=_("EncodingAESKey"),
        required=False,
        max_length=43,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Write-only, 43 characters. Leave empty to keep the stored key."),
    )

    class Meta:
        model = OfficialAccount
        fields = [
            "name",
            "appid",
            "account_type",
            "verified",
            "token",
            "encoding_mode",
            "encoding_aes_key",
            "app_secret",
            "default_reply_text",
            "use_stable_token",
            "js_domains",
            "api_base_url",
            "operators",
            "administrators",
        ]

    def clean_app_secret(self):
        value = self.cleaned_data["app_secret"].strip()
        if not value and not (self.instance.pk and self.instance.app_secret):
            raise forms.ValidationError(_("The AppSecret is required for a new account."))
        return value or self.instance.app_secret

    def clean_encoding_aes_key(self):
        value = self.cleaned_data["encoding_aes_key"].strip()
        return value or (self.instance.encoding_aes_key if self.instance.pk else "")

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("encoding_mode")
        if mode and mode != OfficialAccount.EncodingMode.PLAIN and not cleaned.get("encoding_aes_key"):
            self.add_error("encoding_aes_key", _("Compatible and safe modes need the EncodingAESKey."))
        operators, administrators = self._chosen("operators"), self._chosen("administrators")
        if operators is not None and administrators is not None and not administrators <= operators:
            field = "administrators" if "administrators" in self.fields else "operators"
            self.add_error(field, _("Administrators of an account must also be its operators."))
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            try:
                services.account_clean(account=self.instance)
            except ValidationError as exc:
                for field, problems in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, problems)

    def _chosen(self, name: str) -> set[int] | None:
        """User ids the account will have in ``name`` after saving (None: the field did not validate)."""
        if name in self.fields:
            chosen = self.cleaned_data.get(name)
            return None if chosen is None else {user.pk for user in chosen}
        if not self.instance.pk:
            return set()
        return set(getattr(self.instance, name).values_list("pk", flat=True))


@admin.register(OfficialAccount)
class OfficialAccountAdmin(ModelAdmin):
    form = OfficialAccountForm
    list_display = ["name", "appid", "account_type", "verified", "encoding_mode", "token_state", "callback_url_display"]
    list_filter = ["account_type", "verified", "encoding_mode"]
    search_fields = ["name", "appid", "original_id"]
    readonly_fields = ["callback_url_display", "original_id", "token_state", "created_at", "updated_at"]
    filter_horizontal = ["operators", "administrators"]
    actions = ["force_refresh_token"]
    fieldsets = [
        (None, {"fields": ["name", "appid", "original_id", "account_type", "verified"]}),
        (
            _("Server configuration (服务器配置)"),
            {
                "fields": ["callback_url_display", "token", "encoding_mode", "encoding_aes_key", "app_secret"],
                "description": _(
                    "Paste the callback URL and Token into the WeChat console under 设置与开发 → 基本配置 → 服务器配置."
                ),
            },
        ),
        (_("Behaviour"), {"fields": ["default_reply_text", "use_stable_token", "js_domains", "api_base_url"]}),
        (_("Access"), {"fields": ["operators", "administrators", "token_state", "created_at", "updated_at"]}),
    ]
    # Whoever sets the base URL receives the AppSecret; whoever sets the operators grants the account.
    GUARDED_FIELDS = ("api_base_url", "operators", "administrators")

    def get_queryset(self, request):
        return accounts_for_user(request.user)

    def may_grant_access(self, request, obj) -> bool:
        """Superusers, and the account's administrators, may change who operates it."""
        if request.user.is_superuser:
            return True
        return obj is not None and obj.pk is not None and obj.administrators.filter(pk=request.user.pk).exists()

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return self.fieldsets
        # The base URL is deployment configuration: operators neither see nor change it.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "api_base_url"]})
            for name, options in self.fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if not request.user.is_superuser:
            fields.append("administrators")
            if not self.may_grant_access(request, obj):
                fields.append("operators")
        return fields

    def save_model(self, request, obj, form, change):
        ignored = [name for name in self.GUARDED_FIELDS if name in request.POST and name not in form.fields]
        if ignored:
            logger.warning(
                "admin.account_guarded_fields_ignored",
                extra={"user_id": request.user.pk, "appid": obj.appid, "fields": ignored},
            )
            labels = ", ".join(str(OfficialAccount._meta.get_field(name).verbose_name) for name in ignored)
            messages.warning(
                request, _("You may not change %(fields)s of this account; they were left as they were.") % {"fields": labels}
            )
        # Saved with its access lists in save_related, through the service.

    def save_related(self, request, form, formsets, change):
        operators = form.cleaned_data.get("operators") if "operators" in form.fields else None
        administrators = form.cleaned_data.get("administrators") if "administrators" in form.fields else None
        if not change and not request.user.is_superuser:
            # Staff allowed to add accounts administer what they add; otherwise it would vanish from their list.
            operators = [*(operators or []), request.user]
            administrators = [*(administrators or []), request.user]
        services.account_save(account=form.instance, operators=operators, administrators=administrators)
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.display(description=_("callback URL"))
    def callback_url_display(self, obj):
        if not obj.pk:
            return _("Shown after saving.")
        return format_html("<code>{}</code>", obj.callback_url)

    @admin.display(description=_("access_token"))
    def token_state(self, obj):
        row = obj.credentials.filter(kind="access_token").first() if obj.pk else None
        if row is None or not row.value:
            error = row.last_error if row else ""
            return format_html('<span title="{}">{}</span>', error, _("not fetched yet") if not error else _("failed"))
        left = int(row.seconds_left())
        if left <= 0:
            return _("expired")
        return _("valid for %(minutes)d min") % {"minutes": left // 60}

    @admin.action(description=_("Force refresh access_token (强制刷新)"))
    def force_refresh_token(self, request, queryset):
        for account in queryset:
            try:
                tokens.access_token_refresh(account=account, force=True)
            except WeChatError as exc:
                wechat_error_message(request, exc, action=str(account))
            else:
                messages.success(request, _("%(account)s: new access_token stored.") % {"account": account})
