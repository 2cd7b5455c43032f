"""Admin for auto-reply rules (自动回复)."""

from __future__ import annotations

import copy

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import AccountScopedAdmin, StackedInline, account_scoped_filter
from accounts.selectors import accounts_for_user
from media_assets.forms import library_refusal, picker_attach
from media_assets.selectors import news_article_fields, published_articles_usable

from . import services
from .links import rule_links
from .models import AutoReplyContent, AutoReplyRule
from .selectors import kf_accounts_for_transfer, rules_with_reply_count, transfer_kf_accounts_named


def _kept_contents(formset) -> list[AutoReplyContent]:
    """The replies an inline formset keeps, in the order of their position field."""
    kept = [
        form.instance
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE") and (form.instance.pk or form.has_changed())
    ]
    return sorted(kept, key=lambda content: content.position if content.position is not None else 0)


# Reply type → the library types its media_id (or, for music, its thumb_media_id) may name.
LIBRARY_KINDS = {
    AutoReplyContent.Type.IMAGE: ("media_id", ["image"]),
    AutoReplyContent.Type.VOICE: ("media_id", ["voice"]),
    AutoReplyContent.Type.VIDEO: ("media_id", ["video"]),
    AutoReplyContent.Type.MUSIC: ("thumb_media_id", ["thumb", "image"]),
}


class AutoReplyContentForm(forms.ModelForm):
    """A news reply may be filled from a published article (its title, digest, URL and cover)."""

    published_article = forms.ModelChoiceField(
        queryset=published_articles_usable(accounts=[]),
        required=False,
        label=_("published article (已发布图文)"),
        help_text=_("News replies: pick a published article instead of writing the article by hand."),
    )

    class Meta:
        model = AutoReplyContent
        fields = ["position", "reply_type", "text", "media_id", "thumb_media_id", "title", "description"]
        fields += ["music_url", "hq_music_url", "articles", "kf_account"]

    def clean(self):
        data = super().clean()
        article = data.get("published_article")
        if article is not None and data.get("reply_type") == AutoReplyContent.Type.NEWS:
            data["articles"] = [news_article_fields(article=article)]
        return data


class AutoReplyContentFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        for form in self.forms:
            article = (form.cleaned_data or {}).get("published_article")
            if article is not None and article.account_id != self.instance.account_id:
                raise ValidationError(_("The published article belongs to another account."))
        self._library_check()
        if any(self.errors):
            return
        try:
            services.rule_clean(rule=self.instance, contents=[copy.copy(c) for c in _kept_contents(self)])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc

    def _library_check(self) -> None:
        """A media_id must name a permanent material of the account: a reply lives longer than a temporary one."""
        account = getattr(self.instance, "account", None) if self.instance.account_id else None
        if account is None:
            return
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            field, kinds = LIBRARY_KINDS.get(form.cleaned_data.get("reply_type"), (None, None))
            if field and (
                message := library_refusal(
                    account=account, media_id=form.cleaned_data.get(field) or "", kinds=kinds, permanent_only=True
                )
            ):
                form.add_error(field, message)


class RuleChangelistFormSet(forms.BaseModelFormSet):
    """A rule switched on in the list passes the same checks as a full save."""

    def clean(self):
        super().clean()
        for form in self.forms:
            if "enabled" in form.changed_data and form.instance.enabled and not form.errors:
                try:
                    services.rule_enable_clean(rule=form.instance)
                except ValidationError as exc:
                    form.add_error(None, exc.messages)


class ArticlesWidget(forms.Widget):
    """News articles as ordered rows (title, description, link, picture) instead of JSON; the script adds,
    removes and reorders rows and renumbers their names."""

    template_name = "admin/autoreply/widgets/articles.html"
    PARTS = (
        ("title", _("title")),
        ("description", _("description")),
        ("url", _("link URL")),
        ("picurl", _("picture URL")),
    )

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        articles = [a for a in (value if isinstance(value, list) else []) if isinstance(a, dict)] or [{}]
        context["widget"]["rows"] = [
            [(key, label, str(article.get(key) or "")) for key, label in self.PARTS] for article in articles
        ]
        return context

    def value_from_datadict(self, data, files, name):
        rows: dict[int, dict] = {}
        prefix = f"{name}__"
        for key in data:
            if not key.startswith(prefix):
                continue
            index, _sep, part = key[len(prefix) :].partition("__")
            if index.isdigit() and part in dict(self.PARTS):
                rows.setdefault(int(index), {})[part] = data.get(key, "").strip()
        return [
            {part: article.get(part, "") for part, _label in self.PARTS}
            for _index, article in sorted(rows.items())
            if any(article.values())
        ]

    def value_omitted_from_data(self, data, files, name):
        return name not in data

    def format_value(self, value):
        return value


class ArticlesField(forms.Field):
    widget = ArticlesWidget

    def __init__(self, **kwargs):
        kwargs["required"] = False
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)

    def to_python(self, value):
        return value if isinstance(value, list) else []

    def prepare_value(self, value):
        return value

    def has_changed(self, initial, data):
        return (initial or []) != (data or [])


class AutoReplyContentInline(StackedInline):
    model = AutoReplyContent
    form = AutoReplyContentForm
    formset = AutoReplyContentFormSet
    extra = 1
    fields = [
        ("position", "reply_type"),
        "text",
        ("media_id", "thumb_media_id"),
        ("title", "description"),
        ("music_url", "hq_music_url"),
        "published_article",
        "articles",
        "kf_account",
    ]

    def get_formset(self, request, obj=None, **kwargs):
        # A form class per request, so the choices are the operator's own accounts' articles.
        field = copy.deepcopy(AutoReplyContentForm.base_fields["published_article"])
        field.queryset = published_articles_usable(accounts=accounts_for_user(request.user))
        kwargs["form"] = type("AutoReplyContentForm", (AutoReplyContentForm,), {"published_article": field})
        return super().get_formset(request, obj, **kwargs)

    def _kf_account_field(self, db_field, request):
        return forms.ChoiceField(
            label=db_field.verbose_name.capitalize(),
            required=False,
            choices=_kf_account_choices(request),
            help_text=_("The customer-service account the follower is handed to."),
        )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "kf_account":
            return self._kf_account_field(db_field, request)
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "text":
            field.widget = forms.Textarea(attrs={"rows": 3, "cols": 60})
        elif db_field.name == "articles":
            return ArticlesField(label=db_field.verbose_name.capitalize(), help_text="")
        elif db_field.name in ("media_id", "thumb_media_id") and request is not None:
            kinds = ["image", "voice", "video"] if db_field.name == "media_id" else ["thumb", "image"]
            picker_attach(field, accounts=accounts_for_user(request.user), kinds=kinds, permanent_only=True)
        return field


def _kf_account_choices(request) -> list[tuple[str, str]]:
    """The operator's customer-service accounts, chosen by name; empty hands the follower to any agent."""
    accounts = accounts_for_user(request.user)
    choices = [("", _("Any agent (任意客服)"))]
    choices += [
        (kf.kf_account, f"{kf.nickname} · {kf.kf_account} ({kf.account})") for kf in kf_accounts_for_transfer(accounts=accounts)
    ]
    # A reply may name an account that is no longer listed (deleted, not pulled yet): keep it choosable, so an
    # edit of its rule never clears it silently.
    listed = {value for value, _label in choices}
    choices += [(value, value) for value in sorted(transfer_kf_accounts_named(accounts=accounts) - listed)]
    return choices


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
            {"fields": ["keywords", "match_type", "event_key", "linked_from", "event_name", ("active_from", "active_until")]},
        ),
        (_("Replies (回复内容)"), {"fields": ["reply_mode"]}),
    ]

    readonly_fields = ["linked_from"]

    @admin.display(description=_("used by"))
    def linked_from(self, obj):
        links = rule_links(obj) if obj.pk else []
        return format_html_join(", ", '<a href="{}">{}</a>', ((url, label) for label, url in links)) or "–"

    def get_queryset(self, request):
        return rules_with_reply_count(super().get_queryset(request))

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

    def get_changelist_formset(self, request, **kwargs):
        return super().get_changelist_formset(request, formset=RuleChangelistFormSet, **kwargs)

    def save_model(self, request, obj, form, change):
        # Saved with its replies in save_related, through the service.
        pass

    def save_related(self, request, form, formsets, change):
        contents = None
        for formset in formsets:
            if isinstance(formset, AutoReplyContentFormSet):
                contents = _kept_contents(formset)
                # What the change message (admin history) reads from a formset that saved itself.
                formset.new_objects = [c for c in contents if c.pk is None]
                formset.changed_objects = [
                    (f.instance, f.changed_data) for f in formset.initial_forms if f.instance in contents and f.has_changed()
                ]
                formset.deleted_objects = [f.instance for f in formset.deleted_forms if f.instance.pk]
        services.rule_save(rule=form.instance, contents=contents)
        form.save_m2m()

    def delete_model(self, request, obj):
        services.rule_delete(rule=obj)

    def delete_queryset(self, request, queryset):
        services.rules_delete(rules=queryset)

    def _set_enabled(self, request, queryset, enabled: bool):
        try:
            changed = services.rule_enabled_set(rules=queryset, enabled=enabled)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return
        messages.success(request, _("%(n)d rule(s) changed.") % {"n": changed})

    @admin.action(description=_("Enable selected rules"))
    def enable_rules(self, request, queryset):
        self._set_enabled(request, queryset, True)

    @admin.action(description=_("Disable selected rules"))
    def disable_rules(self, request, queryset):
        self._set_enabled(request, queryset, False)
