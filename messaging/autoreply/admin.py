"""Admin for auto-reply rules (自动回复)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from wxsite.admin_utils import AccountScopedAdmin, account_scoped_filter

from . import validation
from .models import AutoReplyContent, AutoReplyRule


class AutoReplyContentFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        contents = [
            form.instance
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and (form.instance.pk or form.has_changed())
        ]
        try:
            validation.rule_contents_clean(self.instance, contents)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc


class AutoReplyContentInline(admin.StackedInline):
    model = AutoReplyContent
    formset = AutoReplyContentFormSet
    extra = 1
    fields = [
        ("position", "reply_type"),
        "text",
        ("media_id", "thumb_media_id"),
        ("title", "description"),
        ("music_url", "hq_music_url"),
        "articles",
        "kf_account",
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "text":
            field.widget = forms.Textarea(attrs={"rows": 3, "cols": 60})
        elif db_field.name == "articles":
            field.widget = forms.Textarea(attrs={"rows": 3, "cols": 80})
        return field


@admin.register(AutoReplyRule)
class AutoReplyRuleAdmin(AccountScopedAdmin):
    list_display = [
        "name",
        "condition",
        "priority",
        "enabled",
        "trigger",
        "reply_mode",
        "reply_count",
        "active_hours",
        "log_link",
        "account",
    ]
    list_display_links = ["name"]
    list_editable = ["priority", "enabled"]
    list_filter = [account_scoped_filter("account"), "trigger", "match_type", "enabled", "reply_mode"]
    search_fields = ["name", "keywords", "event_key", "event_name"]
    ordering = ["account", "-priority", "id"]
    inlines = [AutoReplyContentInline]
    actions = ["enable_rules", "disable_rules"]

    class Media:
        js = ["autoreply/autoreply_admin.js"]

    fieldsets = [
        (None, {"fields": ["account", "name", "trigger", "enabled", "priority"]}),
        (
            _("When (触发条件)"),
            {"fields": ["keywords", "match_type", "event_key", "event_name", ("active_from", "active_until")]},
        ),
        (_("Replies (回复内容)"), {"fields": ["reply_mode"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_reply_count=Count("contents")).select_related("account")

    @admin.display(description=_("condition"))
    def condition(self, obj):
        if obj.trigger == AutoReplyRule.Trigger.KEYWORD:
            words = ", ".join(obj.keyword_list[:5])
            return f"{obj.get_match_type_display()}: {words}"[:80]
        if obj.trigger == AutoReplyRule.Trigger.EVENT:
            return f"{obj.event_name} {obj.event_key}".strip()
        return obj.event_key

    @admin.display(description=_("replies"), ordering="_reply_count")
    def reply_count(self, obj):
        return obj._reply_count

    @admin.display(description=_("active hours"))
    def active_hours(self, obj):
        if obj.active_from is None or obj.active_until is None:
            return _("all day")
        return f"{obj.active_from:%H:%M}–{obj.active_until:%H:%M}"

    @admin.display(description=_("messages"))
    def log_link(self, obj):
        url = reverse("admin:inbound_inboundmessage_changelist") + "?" + urlencode({"matched_rule__id__exact": obj.pk})
        return format_html('<a href="{}">{}</a>', url, _("log"))

    def _set_enabled(self, request, queryset, enabled: bool):
        changed = 0
        for rule in queryset.exclude(enabled=enabled):
            rule.enabled = enabled
            rule.save(update_fields=["enabled", "updated_at"])
            changed += 1
        messages.success(request, _("%(n)d rule(s) changed.") % {"n": changed})

    @admin.action(description=_("Enable selected rules"))
    def enable_rules(self, request, queryset):
        self._set_enabled(request, queryset, True)

    @admin.action(description=_("Disable selected rules"))
    def disable_rules(self, request, queryset):
        self._set_enabled(request, queryset, False)
