import csv

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin, account_scoped_filter
from accounts.models import OfficialAccount
from accounts.selectors import accounts_for_user
from followers import selectors, tasks
from followers.models import SUBSCRIBE_SCENES, Follower, Tag
from followers.services import operations

from .sync import sync_start_for_operator
from .tags import PullFromWeChatMixin, TagListFilter, _validation_messages


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
            remark = operations.remark_clean(self.cleaned_data["remark"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        if remark != self.instance.remark and not self.instance.subscribed:
            raise ValidationError(_("WeChat only keeps remarks for current followers; this user has unfollowed."))
        return remark


class SubscribeSceneFilter(admin.SimpleListFilter):
    """The subscribe scenes by their console names (the parameter of the stock field filter, so old links work)."""

    title = _("subscribe scene")
    parameter_name = "subscribe_scene__exact"

    def lookups(self, request, model_admin):
        return list(SUBSCRIBE_SCENES.items())

    def queryset(self, request, queryset):
        return queryset.filter(subscribe_scene=self.value()) if self.value() else queryset


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
        "subscribe_scene_label",
        "blacklisted",
        "last_interaction_at",
        "account_name",
    ]
    list_filter = [
        account_scoped_filter("account"),
        TagListFilter,
        "subscribed",
        SubscribeSceneFilter,
        "blacklisted",
        ("subscribe_time", admin.DateFieldListFilter),
    ]
    search_fields = ["openid", "remark", "unionid"]
    list_select_related = ["account"]
    show_full_result_count = False
    list_per_page = 100
    actions = ["add_to_tag", "remove_from_tag", "blacklist_add", "blacklist_remove", "export_csv"]
    change_list_template = "admin/followers/follower/change_list.html"
    fieldsets = [
        (None, {"fields": ["openid", "account", "remark", "unionid"]}),
        (
            _("Subscription"),
            {
                "fields": [
                    "subscribed",
                    "subscribe_time",
                    "unsubscribed_at",
                    "subscribe_scene_label",
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
        "subscribe_scene_label",
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

    def get_list_display(self, request):
        # One account: the column would repeat its name on every row.
        shown = super().get_list_display(request)
        if accounts_for_user(request.user)[:2].count() < 2:
            return [name for name in shown if name != "account_name"]
        return shown

    def has_add_permission(self, request):
        return False  # followers come from WeChat

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        export = path("export.csv", self.admin_site.admin_view(self.export_view), name="followers_follower_export")
        sync_all = path("sync/", self.admin_site.admin_view(self.sync_view), name="followers_follower_sync")
        return [export, sync_all, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = {"sync_url": reverse("admin:followers_follower_sync"), "sync_label": _("Sync all followers (同步粉丝)")}
        return super().changelist_view(request, extra_context={**(extra_context or {}), **extra})

    def sync_view(self, request):
        """Start a full follower sync of one account and open its job page, which follows the job live."""
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        account = accounts_for_user(request.user).filter(pk=request.POST.get("account") or 0).first()
        if account is None:
            messages.error(request, _("Choose an account you manage."))
            return HttpResponseRedirect(reverse("admin:followers_follower_changelist"))
        job = sync_start_for_operator(request, account)
        if job is None:
            return HttpResponseRedirect(reverse("admin:followers_follower_changelist"))
        return HttpResponseRedirect(reverse("admin:followers_syncjob_change", args=[job.pk]))

    @admin.display(description=_("tags (标签)"))
    def tag_list(self, obj):
        names = sorted(t.name for t in obj.tags.all())
        if not names:
            return "—"
        chips = format_html_join("", '<span class="wx-chip">{}</span>', ((name,) for name in names))
        return format_html('<span class="wx-chips">{}</span>', chips)

    @admin.display(description=_("subscribe scene"), ordering="subscribe_scene")
    def subscribe_scene_label(self, obj):
        return obj.subscribe_scene_label or "—"

    @admin.display(description=_("account"), ordering="account__name")
    def account_name(self, obj):
        return format_html('<span title="{}">{}</span>', obj.account.appid, obj.account.name)

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

    @admin.display(description=_("conversation"))
    def message_thread(self, obj):
        # The one thread view is customer service's; linked by URL name, followers do not import messaging.
        url = reverse("admin:kefu_conversation_thread", args=[obj.account_id, obj.openid])
        return format_html(
            '<a class="follower-thread" href="{}">{}</a>', url, _("Messages, replies and customer-service messages (消息记录) →")
        )

    def save_model(self, request, obj, form, change):
        if "remark" in form.changed_data:
            operations.follower_remark_set(follower=obj, remark=form.cleaned_data["remark"], user=request.user)
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
        return TemplateResponse(request, "admin/followers/follower/tag_action.html", context)

    @admin.action(description=_("Add to tag… (打标签)"))
    def add_to_tag(self, request, queryset):
        return self._tag_action(
            request, queryset, action="add_to_tag", title=_("Add followers to a tag"), service=operations.followers_tag_add
        )

    @admin.action(description=_("Remove from tag… (取消标签)"))
    def remove_from_tag(self, request, queryset):
        return self._tag_action(
            request,
            queryset,
            action="remove_from_tag",
            title=_("Remove followers from a tag"),
            service=operations.followers_tag_remove,
        )

    def _blacklist(self, request, queryset, *, add: bool):
        try:
            queued = operations.followers_blacklist(followers=queryset, add=add, user=request.user)
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
