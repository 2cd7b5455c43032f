"""Form pieces shared by the messaging admins: conditional fields and the follower picker.

Operators never type ids: followers are picked by OpenID, remark or unionid with Django admin's own select2
autocomplete, searched through the follower admin (so only the operator's accounts are searched).
"""

from __future__ import annotations

import json

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from accounts.selectors import accounts_for_user
from followers.models import Follower

CONDITIONAL_JS = "messaging/conditional_fields.js"


def conditional_attrs(rules: dict[str, list[str]]) -> dict[str, str]:
    """Widget attributes of a <select> that shows, for each of its values, only the named fields."""
    every = sorted({name for names in rules.values() for name in names})
    return {"data-conditional-fields": json.dumps(rules), "data-conditional-all": json.dumps(every)}


def follower_label(follower: Follower) -> str:
    return f"{follower.remark} · {follower.openid}" if follower.remark else follower.openid


class _FollowerPickerMixin:
    """select2 over ``<admin>/followers/autocomplete/``; option values are OpenIDs."""

    def __init__(self, url: str, attrs=None):
        super().__init__(Follower._meta.get_field("account"), None, attrs=attrs)
        self.url = url

    def get_url(self):
        return self.url

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = forms.Select.build_attrs(self, base_attrs, extra_attrs=extra_attrs)
        css = attrs.get("class", "")
        attrs.update(
            {
                "data-ajax--cache": "true",
                "data-ajax--delay": 250,
                "data-ajax--type": "GET",
                "data-ajax--url": self.url,
                "data-theme": "admin-autocomplete",
                "data-allow-clear": json.dumps(not self.is_required),
                "data-placeholder": "",
                "lang": self.i18n_name,
                "class": f"{css} admin-autocomplete".strip(),
            }
        )
        return attrs

    def optgroups(self, name, value, attr=None):
        selected = [str(v) for v in value if v]
        options = []
        if not self.is_required and not self.allow_multiple_selected:
            options.append(self.create_option(name, "", "", False, 0))
        labels = {f.openid: follower_label(f) for f in self.choices.queryset.filter(openid__in=selected)}
        for openid in selected:
            if openid in labels:
                options.append(self.create_option(name, openid, labels[openid], True, len(options)))
        return [(None, options, 0)]


class FollowerPicker(_FollowerPickerMixin, AutocompleteSelect):
    pass


class FollowerMultiPicker(_FollowerPickerMixin, AutocompleteSelectMultiple):
    pass


class FollowerPickerAdminMixin:
    """Adds ``followers/autocomplete/`` to a ModelAdmin and builds its follower fields."""

    def get_urls(self):
        info = f"{self.model._meta.app_label}_{self.model._meta.model_name}"
        view = self.admin_site.admin_view(self.followers_autocomplete_view)
        return [path("followers/autocomplete/", view, name=f"{info}_followers_autocomplete"), *super().get_urls()]

    def followers_autocomplete_view(self, request):
        """select2's answer, from the follower admin's own queryset and search: only the operator's accounts."""
        follower_admin = self.admin_site._registry[Follower]
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        term = request.GET.get("term", "").strip()
        queryset = follower_admin.get_queryset(request)
        queryset, _duplicates = follower_admin.get_search_results(request, queryset, term)
        page = int(request.GET["page"]) if request.GET.get("page", "").isdigit() else 1
        page, size = max(page, 1), 20
        rows = list(queryset.order_by("pk")[(page - 1) * size : page * size + 1])
        results = [{"id": f.openid, "text": follower_label(f)} for f in rows[:size]]
        return JsonResponse({"results": results, "pagination": {"more": len(rows) > size}})

    def follower_field(self, request, *, multiple: bool, **kwargs):

        info = f"{self.model._meta.app_label}_{self.model._meta.model_name}"
        url = reverse(f"{self.admin_site.name}:{info}_followers_autocomplete")
        queryset = Follower.objects.filter(account__in=accounts_for_user(request.user))
        if multiple:
            return forms.ModelMultipleChoiceField(queryset, to_field_name="openid", widget=FollowerMultiPicker(url), **kwargs)
        return forms.ModelChoiceField(queryset, to_field_name="openid", widget=FollowerPicker(url), **kwargs)


def form_for_request(form_class, request, model_admin):
    """The admin's form class, built with the request and the admin (for scoped querysets and pickers)."""

    class RequestForm(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, request=request, model_admin=model_admin, **kwargs)

    RequestForm.__name__ = form_class.__name__
    return RequestForm


def picked_openids(form, field_name: str = "followers") -> list[str]:
    """The followers picked in ``form``, as OpenIDs in the order the operator picked them.

    Followers of another of the operator's accounts than the form's are refused (an OpenID is per account).
    """
    picked = list(form.cleaned_data.get(field_name) or [])
    account = form.cleaned_data.get("account")
    foreign = [f.openid for f in picked if account is not None and f.account_id != account.pk]
    if foreign:
        raise ValidationError(_("These followers belong to another account: %(list)s") % {"list": ", ".join(foreign[:5])})
    valid = {follower.openid for follower in picked}
    posted = form.data.getlist(form.add_prefix(field_name)) if hasattr(form.data, "getlist") else []
    return list(dict.fromkeys(openid for openid in posted if openid in valid))
