"""Small helpers shared by the app admins: operator scoping, sync badges, WeChat errors as messages."""

import copy
import logging

from django.contrib import admin, messages
from django.contrib.admin.options import csrf_protect_m
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils.translation import gettext_lazy as _
from unfold import admin as unfold_admin

from accounts.badges import SYNC_COLOURS, badge, progress_bar, sync_badge  # noqa: F401  (admins import them from here)
from accounts.models import OfficialAccount
from accounts.selectors import accounts_for_user
from wechat.errors import BASE_URL_REFUSED, WeChatError

logger = logging.getLogger(__name__)


class AccountScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A related-field filter that offers only what the user may see.

    On an account field: the accounts the user operates. On any other relation (tag, template, rule, kf
    account…): the related rows that occur in the user's own list, and only those of their accounts.
    Superusers see every choice. Use it through ``account_scoped_filter(field_path)`` in ``list_filter``.
    """

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        related = field.related_model
        accounts = accounts_for_user(request.user)
        if related is OfficialAccount:
            limit = {"pk__in": accounts.values("pk")}
        else:
            used = model_admin.get_queryset(request).order_by().values(f"{self.field_path}__pk")
            limit = {"pk__in": used}
            try:
                related._meta.get_field("account")
            except FieldDoesNotExist:
                pass
            else:
                limit["account__in"] = accounts.values("pk")
        return field.get_choices(include_blank=False, limit_choices_to=limit, ordering=ordering)


def account_scoped_filter(field_path: str) -> tuple[str, type[admin.RelatedFieldListFilter]]:
    """``list_filter`` entry for a relation (``"account"``, ``"tag"``, ``"template"``…), scoped to the user's accounts."""
    return (field_path, AccountScopedRelatedFilter)


# The admin's base classes: every app's admin builds on these three, so the look changes in one place
# (django-unfold's, docs/architecture.md "The admin theme").


class LengthErrorsShown:
    """Text inputs without the HTML ``maxlength``: the browser would cut a pasted 31-character name to 30 without a
    word; the form's own validation says what is too long instead."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None:
            formfield.widget.attrs.pop("maxlength", None)
        return formfield


class ModelAdmin(LengthErrorsShown, unfold_admin.ModelAdmin):
    pass


class TabularInline(LengthErrorsShown, unfold_admin.TabularInline):
    pass


class StackedInline(LengthErrorsShown, unfold_admin.StackedInline):
    pass


class AccountScopedAdmin(ModelAdmin):
    """Operators see only rows of the accounts they are granted (``account_field`` names the FK path)."""

    account_field = "account"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(**{f"{self.account_field}__in": accounts_for_user(request.user)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "account":
            kwargs["queryset"] = accounts_for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @csrf_protect_m
    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and self.list_editable and "_save" in request.POST and self._foreign_rows_posted(request):
            # A forged (or stale) list edit naming rows outside the user's list: refuse it whole, change nothing.
            logger.warning("admin.list_edit_refused", extra={"user_id": request.user.pk, "model": self.model._meta.label_lower})
            messages.error(
                request,
                _("Nothing was saved: the list named rows that are not among your accounts' records or no longer exist."),
            )
            listing = copy.copy(request)
            listing.method = "GET"
            response = super().changelist_view(listing, extra_context)
            response.status_code = 400
            return response
        return super().changelist_view(request, extra_context)

    def _foreign_rows_posted(self, request) -> bool:
        prefix = self.get_changelist_formset(request).get_default_prefix()
        posted = set(self._get_edited_object_pks(request, prefix))
        try:
            pks = {self.model._meta.pk.to_python(pk) for pk in posted}
        except ValidationError:
            return True
        return self.get_queryset(request).filter(pk__in=pks).count() != len(pks)


class ReadOnlyAdmin(AccountScopedAdmin):
    """Records written by the system (logs, jobs, sent messages): operators read them, never edit them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def wechat_error_message(request, exc: WeChatError, *, action: str = "") -> None:
    """Show a WeChat failure to the operator: errcode and its meaning in Chinese and English."""
    prefix = f"{action}: " if action else ""
    said = _("Not sent to WeChat") if exc.errcode == BASE_URL_REFUSED else _("WeChat answered")
    messages.error(request, f"{prefix}{said} {exc.errcode} — {exc.meaning_zh} / {exc.meaning_en}")
