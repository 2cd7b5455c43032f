"""The menu editor: a tree of buttons beside a phone-shaped preview, saved as rows and published through a task."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin, account_scoped_filter, badge, sync_badge, wechat_error_message
from accounts.selectors import accounts_for_user
from followers.models import Follower
from wechat.api import menus as menu_api
from wechat.errors import WeChatError
from wechat.models import SyncStatus

from .. import selectors, services
from ..models import ButtonType, Menu
from ..validation import buttons_errors


class MenuForm(forms.ModelForm):
    buttons_json = forms.CharField(widget=forms.HiddenInput, required=False)
    tag_id = forms.TypedChoiceField(label=_("follower tag"), required=False, coerce=int, empty_value=None)

    class Meta:
        model = Menu
        fields = ["account", "kind", "name", "tag_id", "client_platform_type"]

    def __init__(self, *args, accounts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.button_errors: list[dict] = []
        choices = selectors.tag_choices(accounts=accounts) if accounts is not None else []
        if self.instance.tag_id is not None and self.instance.tag_id not in {value for value, _label in choices}:
            # A tag pulled with a menu but not (yet) among the account's tags here.
            choices.append((self.instance.tag_id, str(self.instance.tag_id)))
        self.fields["tag_id"].choices = [("", _("Any tag")), *choices]
        self.fields["tag_id"].help_text = _("Conditional menus: followers with this tag see it (tags pulled from WeChat).")
        if self.instance.pk:
            self.initial["buttons_json"] = json.dumps(selectors.menu_tree(menu=self.instance), ensure_ascii=False)

    def clean(self):
        cleaned = super().clean()
        try:
            tree = json.loads(cleaned.get("buttons_json") or "[]")
        except ValueError:
            raise ValidationError(_("The menu editor sent something unreadable; reload the page.")) from None
        cleaned["buttons"] = tree
        if cleaned.get("kind") == Menu.Kind.DEFAULT:
            # The editor hides the match rule of a default menu: whatever was left in it does not apply.
            cleaned["tag_id"], cleaned["client_platform_type"] = None, ""
        self.button_errors = [e.as_dict() for e in buttons_errors(tree)]
        menu = Menu(
            kind=cleaned.get("kind") or Menu.Kind.DEFAULT,
            tag_id=cleaned.get("tag_id"),
            client_platform_type=cleaned.get("client_platform_type") or "",
        )
        try:
            services.menu_clean(menu=menu, tree=tree)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        return cleaned


def _state(menu: Menu):
    if menu.sync_status in (SyncStatus.PENDING, SyncStatus.SYNCING):
        return sync_badge(menu.sync_status, _("publishing…"))
    if menu.sync_status == SyncStatus.FAILED:
        return sync_badge("failed", _("publish failed"), menu.last_error)
    if menu.has_unpublished_changes:
        return badge("#4a5568", _("not published") if not menu.menuid and not menu.synced_at else _("unpublished changes"))
    return sync_badge("synced", _("live"))


@admin.register(Menu)
class MenuAdmin(AccountScopedAdmin):
    form = MenuForm
    list_display = ["name", "kind", "match", "state", "last_version", "account"]
    list_filter = [account_scoped_filter("account"), "kind", "sync_status"]
    search_fields = ["name", "buttons__name", "buttons__key", "buttons__url"]
    change_form_template = "admin/menus/menu/change_form.html"
    change_list_template = "admin/menus/menu/change_list.html"
    fieldsets = [(None, {"fields": ["account", "kind", "name", ("tag_id", "client_platform_type"), "buttons_json"]})]

    class Media:
        js = ["menus/menu_editor.js"]
        css = {"all": ["menus/menu_editor.css"]}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        accounts = accounts_for_user(request.user)

        class ScopedForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, accounts=accounts, **kw)

        return ScopedForm

    @admin.display(description=_("match rule"))
    def match(self, obj):
        if obj.kind == Menu.Kind.DEFAULT:
            return _("everyone")
        parts = []
        if obj.tag_id is not None:
            parts.append(_("tag %(id)s") % {"id": obj.tag_id})
        if obj.client_platform_type:
            parts.append(obj.get_client_platform_type_display())
        return " + ".join(str(p) for p in parts)

    @admin.display(description=_("state"))
    def state(self, obj):
        return _state(obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account").annotate(_last_number=Max("versions__number"))

    @admin.display(description=_("last published"), ordering="_last_number")
    def last_version(self, obj):
        if obj._last_number is None:
            return "–"
        url = reverse("admin:menus_menuversion_changelist") + f"?menu__id__exact={obj.pk}"
        return _link(url, f"v{obj._last_number}")

    # Saving goes through the service, which checks WeChat's rules and writes the button rows.

    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        services.menu_save(menu=form.instance, tree=form.cleaned_data["buttons"])

    def delete_model(self, request, obj):
        services.menu_delete(menu=obj)

    def delete_queryset(self, request, queryset):
        for menu in queryset:
            services.menu_delete(menu=menu)

    def response_add(self, request, obj, post_url_continue=None):
        if "_publish" in request.POST:
            return self._publish_or_confirm(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_publish" in request.POST:
            return self._publish_or_confirm(request, obj)
        return super().response_change(request, obj)

    # Extra views

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/publish/", view(self.publish_view), name="menus_menu_publish"),
            path("pull/", view(self.pull_view), name="menus_menu_pull"),
            path("delete-live/", view(self.delete_live_view), name="menus_menu_delete_live"),
            path("picker/<str:field>/", view(self.picker_view), name="menus_menu_picker"),
            path("trymatch/<int:follower_pk>/", view(self.trymatch_view), name="menus_menu_trymatch"),
            *super().get_urls(),
        ]

    def _menu(self, request, pk) -> Menu:
        menu = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, menu):
            raise PermissionDenied
        return menu

    def _account(self, request):
        account = (
            accounts_for_user(request.user).filter(pk=request.GET.get("account") or request.POST.get("account") or 0).first()
        )
        if account is None:
            raise PermissionDenied
        return account

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def _publish(self, request, menu: Menu):
        change_url = reverse("admin:menus_menu_change", args=[menu.pk])
        try:
            services.menu_publish_request(menu=menu, user=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(change_url)
        messages.success(request, _("Publishing “%(menu)s” to WeChat (menu/create); its answer shows here.") % {"menu": menu})
        return HttpResponseRedirect(change_url)

    def _publish_or_confirm(self, request, menu: Menu):
        """Publish at once, unless the live menu is not the one last published from here: then say so first."""
        if menu.kind == Menu.Kind.DEFAULT:
            try:
                drift = services.live_drift(account=menu.account)
            except WeChatError:
                drift = None
            if drift is None or drift.live_changed_elsewhere:
                return HttpResponseRedirect(reverse("admin:menus_menu_publish", args=[menu.pk]))
        return self._publish(request, menu)

    def publish_view(self, request, pk):
        menu = self._menu(request, pk)
        if request.method == "POST":
            return self._publish(request, menu)
        drift, error = None, None
        if menu.kind == Menu.Kind.DEFAULT:
            try:
                drift = services.live_drift(account=menu.account)
            except WeChatError as exc:
                error = exc
        context = self._context(
            request,
            _("Publish “%(menu)s”") % {"menu": menu},
            original=menu,
            drift=drift,
            error=error,
            tree=selectors.menu_tree(menu=menu),
            change_url=reverse("admin:menus_menu_change", args=[menu.pk]),
        )
        return TemplateResponse(request, "admin/menus/menu/publish.html", context)

    def pull_view(self, request):
        account = self._account(request)
        changelist = reverse("admin:menus_menu_changelist")
        try:
            drift = services.live_drift(account=account)
        except WeChatError as exc:
            wechat_error_message(request, exc, action=str(_("Pull from WeChat")))
            return HttpResponseRedirect(changelist)
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            for warning in services.menus_pull(account=account, live=drift.live):
                messages.warning(request, warning)
            messages.success(request, _("%(account)s: the live menu is now in the editor.") % {"account": account})
            menu = selectors.menu_default(account=account)
            return HttpResponseRedirect(reverse("admin:menus_menu_change", args=[menu.pk]) if menu else changelist)
        context = self._context(request, _("Pull the live menu from WeChat"), account=account, drift=drift)
        return TemplateResponse(request, "admin/menus/menu/pull.html", context)

    def delete_live_view(self, request):
        account = self._account(request)
        changelist = reverse("admin:menus_menu_changelist")
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            try:
                services.menus_delete_live(account=account)
            except WeChatError as exc:
                wechat_error_message(request, exc, action=str(_("Delete the live menu")))
            else:
                messages.success(
                    request, _("%(account)s: WeChat deleted the menu and every conditional menu.") % {"account": account}
                )
            return HttpResponseRedirect(changelist)
        context = self._context(request, _("Delete the live menu"), account=account)
        return TemplateResponse(request, "admin/menus/menu/delete_live.html", context)

    def picker_view(self, request, field):
        """Choices for the editor's pickers (click keys, materials, published articles, mini programs)."""
        selector = selectors.PICKERS.get(field)
        if selector is None:
            raise PermissionDenied
        account = self._account(request)
        choices = selector(account_id=account.pk, query=request.GET.get("q", "").strip())[:50]
        return JsonResponse({"results": [{"value": c.value, "label": c.label} for c in choices]})

    def trymatch_view(self, request, follower_pk):
        """menu/trymatch for one follower: the menu WeChat shows them, and which menu here it is."""
        follower = get_object_or_404(
            Follower.objects.filter(account__in=accounts_for_user(request.user)).select_related("account"), pk=follower_pk
        )
        buttons, error, matched = [], None, None
        try:
            buttons = menu_api.menu_trymatch(account=follower.account, user_id=follower.openid)
        except WeChatError as exc:
            error = exc
        else:
            for menu in Menu.objects.filter(account=follower.account).order_by("-kind", "-id"):
                version = menu.versions.order_by("-number").first()
                if version is not None and version.buttons == buttons:
                    matched = menu
                    break
        context = self._context(
            request,
            _("Menu for follower %(openid)s") % {"openid": follower.openid},
            follower=follower,
            buttons=buttons,
            error=error,
            matched=matched,
            follower_url=reverse("admin:followers_follower_change", args=[follower.pk]),
        )
        return TemplateResponse(request, "admin/menus/menu/trymatch.html", context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self._editor_context(request, object_id)}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _editor_context(self, request, object_id) -> dict:
        menu = self.get_object(request, object_id) if object_id else None
        account_ids = list(accounts_for_user(request.user).values_list("pk", flat=True))
        rules = {}
        for account_id in account_ids if menu is None else [menu.account_id]:
            for key, rule in selectors.click_rules(account_id=account_id).items():
                rules.setdefault(str(account_id), {})[key] = {
                    "name": rule.name,
                    "url": reverse("admin:autoreply_autoreplyrule_change", args=[rule.pk]),
                }
        return {
            "menu_editor": {
                "types": [{"value": v, "label": str(label)} for v, label in ButtonType.choices],
                "rules": rules,
                "pickerUrl": reverse("admin:menus_menu_picker", args=["FIELD"]),
                "ruleAddUrl": reverse("admin:autoreply_autoreplyrule_add"),
                "accountName": str(menu.account) if menu else "",
            },
            "menu_state": _state(menu) if menu else "",
            "menu_versions": list(menu.versions.order_by("-number")[:10]) if menu else [],
        }

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "menu_accounts": accounts_for_user(request.user)}
        return super().changelist_view(request, extra_context=extra_context)


def _link(url, label):

    return format_html('<a href="{}">{}</a>', url, label)
