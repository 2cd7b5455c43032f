from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin, account_scoped_filter, sync_badge, wechat_error_message
from accounts.selectors import accounts_for_user
from followers import selectors, tasks
from followers.models import Tag
from followers.services import tags as tag_services
from wechat.errors import WeChatError

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
                tag_services.tag_reserved_check(tag=self.instance)
            else:
                tag_services.tag_create_check(account=account)
            cleaned["name"] = tag_services.tag_name_clean(account=account, name=cleaned["name"], tag=self.instance)
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
    change_list_template = "admin/followers/tag/change_list.html"
    pull_label = _("Pull tags and members from WeChat (同步标签)")
    pull_task = tasks.tags_pull_all

    def get_readonly_fields(self, request, obj=None):
        fields = ["wechat_id", "follower_count", "sync_state", "synced_at"]
        if obj is not None:
            fields.insert(0, "account")
            if tag_services.tag_is_reserved(obj):
                fields.insert(1, "name")
        return fields

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and tag_services.tag_is_reserved(obj))

    @admin.display(description=_("WeChat sync"), ordering="sync_status")
    def sync_state(self, obj):
        return sync_badge(obj.sync_status, obj.get_sync_status_display(), obj.last_error)

    @admin.display(description=_("followers here"))
    def members(self, obj):
        url = reverse("admin:followers_follower_changelist") + f"?{TagListFilter.parameter_name}={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("list"))

    def save_model(self, request, obj, form, change):
        if not change:
            tag = tag_services.tag_create(account=obj.account, name=obj.name)
            obj.pk, obj.sync_status = tag.pk, tag.sync_status
            obj._state.adding = False
        elif "name" in form.changed_data:
            tag_services.tag_rename(tag=obj, name=obj.name)
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
        tag_services.tag_delete(tag=obj)

    def delete_queryset(self, request, queryset):
        for tag in queryset.select_related("account"):
            try:
                tag_services.tag_delete(tag=tag)
            except WeChatError as exc:
                wechat_error_message(request, exc, action=tag.name)
            except ValidationError as exc:
                messages.error(request, f"{tag.name}: {_validation_messages(exc)}")

    @admin.action(description=_("Send to WeChat again (重新同步)"))
    def sync_again(self, request, queryset):
        count = tag_services.tags_sync_retry(tags=queryset)
        messages.success(request, _("%(count)d tag(s) queued for WeChat.") % {"count": count})

    @admin.action(description=_("Pull members from WeChat (拉取标签下粉丝)"))
    def pull_members(self, request, queryset):
        ids = list(queryset.filter(wechat_id__isnull=False).values_list("pk", flat=True))
        transaction.on_commit(lambda: [tasks.tag_members_pull.delay(pk) for pk in ids])
        messages.success(request, _("%(count)d tag(s): pull from WeChat started; refresh in a moment.") % {"count": len(ids)})
