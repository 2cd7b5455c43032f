import csv
import logging

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from followers.models import Follower, FollowerOperation, Tag
from wechat import tokens
from wechat.errors import WeChatError
from wechat.models import SyncStatus
from wxsite.admin_utils import AccountScopedAdmin, account_scoped_filter, sync_badge, wechat_error_message

from . import selectors, services, tasks
from .models import OfficialAccount
from .selectors import accounts_for_user

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

    def _chosen(self, name: str) -> set[int] | None:
        """User ids the account will have in ``name`` after saving (None: the field did not validate)."""
        if name in self.fields:
            chosen = self.cleaned_data.get(name)
            return None if chosen is None else {user.pk for user in chosen}
        if not self.instance.pk:
            return set()
        return set(getattr(self.instance, name).values_list("pk", flat=True))


@admin.register(OfficialAccount)
class OfficialAccountAdmin(admin.ModelAdmin):
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
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change and not request.user.is_superuser:
            # Staff allowed to add accounts administer what they add; otherwise it would vanish from their list.
            form.instance.operators.add(request.user)
            form.instance.administrators.add(request.user)

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


# Tags (用户标签), followers (粉丝) and the changes sent to WeChat for them.


def _validation_messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


class TagListFilter(admin.SimpleListFilter):
    """Tags of the operator's accounts (of the account chosen in the account filter, if any), and "no tag"."""

    title = _("tag (标签)")
    parameter_name = "tag"
    account_parameter = "account__id__exact"  # set by account_scoped_filter("account")

    def lookups(self, request, model_admin):
        tags = selectors.tags_for_user(request.user).select_related("account").order_by("account__name", "name")
        account = request.GET.get(self.account_parameter, "")
        if account.isdigit():
            tags = tags.filter(account_id=account)
        choices = [("none", _("no tag"))]
        return choices + [(str(t.pk), f"{t.name} ({t.account.name})") for t in tags]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(tags__isnull=True)
        if self.value():
            return queryset.filter(tags__id=self.value())
        return queryset


class PullFromWeChatMixin:
    """A changelist button that pulls one account's state from WeChat through a task."""

    pull_label = ""
    pull_task = None

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}_pull"
        return [path("pull/", self.admin_site.admin_view(self.pull_view), name=name), *super().get_urls()]

    def pull_view(self, request):
        opts = self.model._meta
        back = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        account = accounts_for_user(request.user).filter(pk=request.POST.get("account") or 0).first()
        if account is None:
            messages.error(request, _("Choose an account you manage."))
            return HttpResponseRedirect(back)
        task = self.pull_task
        transaction.on_commit(lambda: task.delay(account.pk))
        messages.success(request, _("%(account)s: pull from WeChat started; refresh in a moment.") % {"account": account})
        return HttpResponseRedirect(back)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "pull_accounts": accounts_for_user(request.user),
            "pull_label": self.pull_label,
            "pull_url": reverse(f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_pull"),
        }
        return super().changelist_view(request, extra_context=extra_context)


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["account", "name"]
        help_texts = {"name": _("At most 30 bytes in UTF-8 (10 Chinese characters). Saved here, then sent to WeChat.")}

    def clean(self):
        cleaned = super().clean()
        account = cleaned.get("account") or getattr(self.instance, "account", None)
        if account is None or "name" not in cleaned:
            return cleaned
        try:
            if self.instance.pk:
                services.tag_reserved_check(tag=self.instance)
            else:
                services.tag_create_check(account=account)
            cleaned["name"] = services.tag_name_clean(account=account, name=cleaned["name"], tag=self.instance)
        except ValidationError as exc:
            raise ValidationError({"name": exc.messages}) from exc
        return cleaned


@admin.register(Tag)
class TagAdmin(PullFromWeChatMixin, AccountScopedAdmin):
    form = TagForm
    list_display = ["name", "account", "wechat_id", "follower_count", "members", "sync_state", "synced_at"]
    list_filter = [account_scoped_filter("account"), "sync_status"]
    search_fields = ["name"]
    list_select_related = ["account"]
    actions = ["sync_again", "pull_members"]
    change_list_template = "admin/accounts/tag/change_list.html"
    pull_label = _("Pull tags and members from WeChat (同步标签)")
    pull_task = tasks.tags_pull_all

    def get_readonly_fields(self, request, obj=None):
        fields = ["wechat_id", "follower_count", "sync_state", "synced_at"]
        if obj is not None:
            fields.insert(0, "account")
            if services.tag_is_reserved(obj):
                fields.insert(1, "name")
        return fields

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and services.tag_is_reserved(obj))

    @admin.display(description=_("WeChat sync"), ordering="sync_status")
    def sync_state(self, obj):
        return sync_badge(obj.sync_status, obj.get_sync_status_display(), obj.last_error)

    @admin.display(description=_("followers here"))
    def members(self, obj):
        url = reverse("admin:followers_follower_changelist") + f"?{TagListFilter.parameter_name}={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("list"))

    def save_model(self, request, obj, form, change):
        if not change:
            tag = services.tag_create(account=obj.account, name=obj.name)
            obj.pk, obj.sync_status = tag.pk, tag.sync_status
            obj._state.adding = False
        elif "name" in form.changed_data:
            services.tag_rename(tag=obj, name=obj.name)
            messages.info(request, _("The new name is being sent to WeChat."))

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except WeChatError as exc:
            wechat_error_message(request, exc, action=str(_("Delete")))
        except ValidationError as exc:
            messages.error(request, _validation_messages(exc))
        return HttpResponseRedirect(reverse("admin:followers_tag_change", args=[object_id]))

    def delete_model(self, request, obj):
        services.tag_delete(tag=obj)

    def delete_queryset(self, request, queryset):
        for tag in queryset.select_related("account"):
            try:
                services.tag_delete(tag=tag)
            except WeChatError as exc:
                wechat_error_message(request, exc, action=tag.name)
            except ValidationError as exc:
                messages.error(request, f"{tag.name}: {_validation_messages(exc)}")

    @admin.action(description=_("Send to WeChat again (重新同步)"))
    def sync_again(self, request, queryset):
        count = services.tags_sync_retry(tags=queryset)
        messages.success(request, _("%(count)d tag(s) queued for WeChat.") % {"count": count})

    @admin.action(description=_("Pull members from WeChat (拉取标签下粉丝)"))
    def pull_members(self, request, queryset):
        ids = list(queryset.filter(wechat_id__isnull=False).values_list("pk", flat=True))
        transaction.on_commit(lambda: [tasks.tag_members_pull.delay(pk) for pk in ids])
        messages.success(request, _("%(count)d tag(s): pull from WeChat started; refresh in a moment.") % {"count": len(ids)})


class TagChoiceForm(forms.Form):
    tag = forms.ModelChoiceField(queryset=Tag.objects.none(), label=_("tag (标签)"))

    def __init__(self, *args, tags, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].queryset = tags


class FollowerForm(forms.ModelForm):
    class Meta:
        model = Follower
        fields = ["remark"]
        help_texts = {"remark": _("Fewer than 30 characters. Saved here, then sent to WeChat (设置备注名).")}

    def clean_remark(self):
        try:
            remark = services.remark_clean(self.cleaned_data["remark"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        if remark != self.instance.remark and not self.instance.subscribed:
            raise ValidationError(_("WeChat only keeps remarks for current followers; this user has unfollowed."))
        return remark


class _Echo:
    def write(self, value):
        return value


def _csv_response(rows, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    # A byte-order mark so that spreadsheet programs read the Chinese text as UTF-8.
    body = (("\ufeff" if i == 0 else "") + writer.writerow(row) for i, row in enumerate(rows))
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(Follower)
class FollowerAdmin(PullFromWeChatMixin, AccountScopedAdmin):
    form = FollowerForm
    pull_label = _("Pull blacklist from WeChat (同步黑名单)")
    pull_task = tasks.blacklist_pull
    list_display = [
        "openid",
        "remark",
        "tag_list",
        "subscribed",
        "subscribe_time",
        "subscribe_scene",
        "blacklisted",
        "last_interaction_at",
        "account",
    ]
    list_filter = [
        account_scoped_filter("account"),
        TagListFilter,
        "subscribed",
        "subscribe_scene",
        "blacklisted",
        ("subscribe_time", admin.DateFieldListFilter),
    ]
    search_fields = ["openid", "remark", "unionid"]
    list_select_related = ["account"]
    show_full_result_count = False
    list_per_page = 100
    actions = ["add_to_tag", "remove_from_tag", "blacklist_add", "blacklist_remove", "export_csv"]
    change_list_template = "admin/accounts/follower/change_list.html"
    fieldsets = [
        (None, {"fields": ["openid", "account", "remark", "unionid"]}),
        (
            _("Subscription"),
            {
                "fields": [
                    "subscribed",
                    "subscribe_time",
                    "unsubscribed_at",
                    "subscribe_scene",
                    "qr_scene",
                    "language",
                    "last_interaction_at",
                ]
            },
        ),
        (_("Tags and blacklist"), {"fields": ["tag_list", "blacklisted"]}),
        (_("Location (地理位置)"), {"fields": ["location"]}),
        (_("Messages (消息记录)"), {"fields": ["message_thread"]}),
    ]
    readonly_fields = [
        "openid",
        "account",
        "unionid",
        "subscribed",
        "subscribe_time",
        "unsubscribed_at",
        "subscribe_scene",
        "qr_scene",
        "language",
        "last_interaction_at",
        "tag_list",
        "blacklisted",
        "location",
        "message_thread",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    def has_add_permission(self, request):
        return False  # followers come from WeChat

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        export = path("export.csv", self.admin_site.admin_view(self.export_view), name="followers_follower_export")
        return [export, *super().get_urls()]

    @admin.display(description=_("tags (标签)"))
    def tag_list(self, obj):
        return ", ".join(sorted(t.name for t in obj.tags.all())) or "—"

    @admin.display(description=_("last location"))
    def location(self, obj):
        if obj.latitude is None or obj.longitude is None:
            return _("No location reported (the follower has not allowed 上报地理位置).")
        lat, lng = obj.latitude, obj.longitude
        osm = f"https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=15/{lat}/{lng}"
        precision = f" ±{obj.location_precision:.0f} m" if obj.location_precision else ""
        when = timezone.localtime(obj.location_at).strftime("%Y-%m-%d %H:%M") if obj.location_at else ""
        return format_html(
            '{}, {}{} <span style="color:#888">{}</span> · <a href="{}" target="_blank" rel="noopener">{}</a>',
            lat,
            lng,
            precision,
            when,
            osm,
            _("map (OpenStreetMap)"),
        )

    @admin.display(description=_("latest messages"))
    def message_thread(self, obj):
        thread = selectors.follower_thread(follower=obj)
        if not thread:
            return _("No messages yet.")
        rows = format_html_join(
            "",
            '<tr><td style="white-space:nowrap">{}</td><td>{}</td><td>{}</td><td><a href="{}">#{}</a></td></tr>',
            (
                (
                    timezone.localtime(m.received_at).strftime("%Y-%m-%d %H:%M:%S"),
                    m.event or m.msg_type,
                    (m.content or m.event_key)[:200],
                    reverse("admin:messaging_inboundmessage_change", args=[m.pk]),
                    m.pk,
                )
                for m in thread
            ),
        )
        return format_html('<table class="follower-thread">{}</table>', rows)

    def save_model(self, request, obj, form, change):
        if "remark" in form.changed_data:
            services.follower_remark_set(follower=obj, remark=form.cleaned_data["remark"], user=request.user)
            messages.info(request, _("The remark is being sent to WeChat."))

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        return _csv_response(selectors.follower_csv_rows(queryset=queryset), "followers.csv")

    @admin.action(description=_("Export selected to CSV"))
    def export_csv(self, request, queryset):
        return _csv_response(selectors.follower_csv_rows(queryset=queryset), "followers.csv")

    def _tag_action(self, request, queryset, *, action: str, title, service):
        account_ids = list(queryset.order_by().values_list("account_id", flat=True).distinct()[:2])
        if len(account_ids) != 1:
            messages.error(request, _("Select followers of one official account at a time."))
            return None
        account = OfficialAccount.objects.get(pk=account_ids[0])
        tags = selectors.tags_assignable(account=account)
        if "apply" in request.POST:
            form = TagChoiceForm(request.POST, tags=tags)
            if form.is_valid():
                tag = form.cleaned_data["tag"]
                try:
                    queued = service(tag=tag, followers=queryset, user=request.user)
                except ValidationError as exc:
                    messages.error(request, _validation_messages(exc))
                    return None
                message = _("%(count)d follower(s) queued for “%(tag)s” in %(calls)d call(s) to WeChat.") % {
                    "count": queued.openids,
                    "tag": tag.name,
                    "calls": queued.operations,
                }
                if queued.skipped:
                    message += " " + _("%(skipped)d unsubscribed follower(s) skipped.") % {"skipped": queued.skipped}
                messages.success(request, message)
                return None
        else:
            form = TagChoiceForm(tags=tags)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "account": account,
            "followers": queryset[:20],
            "count": queryset.count(),
            "action": action,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "no_tags": not tags.exists(),
        }
        return TemplateResponse(request, "admin/accounts/follower/tag_action.html", context)

    @admin.action(description=_("Add to tag… (打标签)"))
    def add_to_tag(self, request, queryset):
        return self._tag_action(
            request, queryset, action="add_to_tag", title=_("Add followers to a tag"), service=services.followers_tag_add
        )

    @admin.action(description=_("Remove from tag… (取消标签)"))
    def remove_from_tag(self, request, queryset):
        return self._tag_action(
            request,
            queryset,
            action="remove_from_tag",
            title=_("Remove followers from a tag"),
            service=services.followers_tag_remove,
        )

    def _blacklist(self, request, queryset, *, add: bool):
        try:
            queued = services.followers_blacklist(followers=queryset, add=add, user=request.user)
        except ValidationError as exc:
            messages.error(request, _validation_messages(exc))
            return
        messages.success(
            request,
            _("%(count)d follower(s) queued in %(calls)d call(s) to WeChat.")
            % {"count": queued.openids, "calls": queued.operations},
        )

    @admin.action(description=_("Add to blacklist (拉黑)"))
    def blacklist_add(self, request, queryset):
        self._blacklist(request, queryset, add=True)

    @admin.action(description=_("Remove from blacklist (取消拉黑)"))
    def blacklist_remove(self, request, queryset):
        self._blacklist(request, queryset, add=False)


@admin.register(FollowerOperation)
class FollowerOperationAdmin(AccountScopedAdmin):
    list_display = ["created_at", "account", "kind", "tag", "size", "sync_state", "created_by"]
    list_filter = [account_scoped_filter("account"), "kind", "sync_status"]
    list_select_related = ["account", "tag", "created_by"]
    actions = ["retry"]
    readonly_fields = [
        "account",
        "kind",
        "tag",
        "openids",
        "remark",
        "sync_state",
        "synced_at",
        "last_error",
        "created_by",
        "created_at",
    ]
    exclude = ["sync_status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("followers"))
    def size(self, obj):
        return len(obj.openids)

    @admin.display(description=_("WeChat sync"), ordering="sync_status")
    def sync_state(self, obj):
        return sync_badge(obj.sync_status, obj.get_sync_status_display(), obj.last_error)

    @admin.action(description=_("Send failed changes again (重试)"), permissions=["view"])
    def retry(self, request, queryset):
        count = services.follower_operations_retry(operations=queryset.filter(sync_status=SyncStatus.FAILED))
        messages.success(request, _("%(count)d change(s) queued again.") % {"count": count})


from . import admin_sync  # noqa: E402, F401
