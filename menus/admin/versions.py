"""Published versions: read-only, with a preview, a diff against any other version and a one-click rollback."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import ReadOnlyAdmin, account_scoped_filter

from .. import services
from ..models import MenuVersion
from ..selectors import buttons_diff


@admin.register(MenuVersion)
class MenuVersionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "menu", "kind", "source", "button_count", "published_at", "published_by", "account"]
    list_filter = [account_scoped_filter("account"), "kind", "source"]
    list_select_related = ["menu", "account", "published_by"]
    change_form_template = "admin/menus/menuversion/change_form.html"
    fields = [
        "account",
        "menu",
        "kind",
        "number",
        "source",
        "rolled_back_from",
        "menuid",
        "matchrule",
        "published_by",
        "published_at",
    ]

    class Media:
        css = {"all": ["menus/menu_editor.css"]}
        js = ["menus/menu_editor.js"]

    @admin.display(description=_("buttons"))
    def button_count(self, obj):
        return sum(1 + len(b.get("sub_button") or []) for b in obj.buttons)

    def has_delete_permission(self, request, obj=None):
        return False  # every published menu is kept

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/rollback/", view(self.rollback_view), name="menus_menuversion_rollback"), *super().get_urls()]

    def rollback_view(self, request, pk):
        version = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method != "POST" or not request.user.has_perm("menus.change_menu"):
            raise PermissionDenied
        try:
            menu = services.menu_rollback(version=version, user=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(reverse("admin:menus_menuversion_change", args=[version.pk]))
        messages.success(
            request, _("Rolling back to v%(number)s: it is back in the editor and being published.") % {"number": version.number}
        )
        return HttpResponseRedirect(reverse("admin:menus_menu_change", args=[menu.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        extra = {}
        if version is not None:
            others = self.get_queryset(request).filter(account=version.account).exclude(pk=version.pk).order_by("-number")
            compare = (
                others.filter(number=request.GET.get("compare") or 0).first() or others.filter(number__lt=version.number).first()
            )
            extra = {
                "version": version,
                "others": others,
                "compare": compare,
                "diff": buttons_diff(compare.buttons, version.buttons) if compare else [],
                "can_rollback": request.user.has_perm("menus.change_menu"),
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})
