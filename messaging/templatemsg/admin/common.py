"""Shared pieces of the template-message admin: status badges, form errors from services, the JSON data field."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.selectors import accounts_for_user
from messaging.templatemsg.models import MessageTemplate, TemplateMessage, TemplatePush
from messaging.templatemsg.validation import MAX_VALUE_CHARS, keywords_from_content
from wechat.errors import WeChatError

MessageStatus = TemplateMessage.Status


PushStatus = TemplatePush.Status


STATUS_COLOURS = {
    "draft": "#718096",
    "queued": "#4a5568",
    "sending": "#2b6cb0",
    "sent": "#2b6cb0",
    "success": "#2f855a",
    "scheduled": "#b7791f",
    "stopped": "#c05621",
    "cancelled": "#718096",
}


def wechat_error_text(exc: WeChatError) -> str:
    return f"{_('WeChat answered')} {exc.errcode} — {exc.meaning_zh} / {exc.meaning_en}"


def status_badge(status: str, label: str, error: str = ""):
    colour = STATUS_COLOURS.get(status, "#c53030")
    return format_html(
        '<span title="{}" style="background:{};color:#fff;border-radius:8px;padding:1px 8px;font-size:11px;'
        'white-space:nowrap">{}</span>',
        error,
        colour,
        label,
    )


def form_errors_add(form: forms.Form, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, msgs in exc.message_dict.items():
        field = aliases.get(key, key)
        form.add_error(field if field in form.fields else None, msgs)


def template_lines(template, data) -> list[tuple[str, str]]:
    """The message as the follower sees it: (label, value) per keyword of the template."""
    labels, values = keyword_labels(template.content), data_values(data)
    return [(labels.get(keyword, keyword), values.get(keyword, "")) for keyword in template.keywords or []]


def keyword_labels(content: str) -> dict[str, str]:
    """Each keyword's label as the follower sees it: the text before it on its line (商品名称：{{thing1.DATA}})."""
    labels: dict[str, str] = {}
    for line in (content or "").splitlines():
        for name in keywords_from_content(line):
            before = line.split("{", 1)[0].strip().rstrip("：:").strip()
            labels.setdefault(name, before or name)
    return labels


def data_values(data) -> dict[str, str]:
    if not isinstance(data, dict):
        return {}
    return {key: str(item.get("value", "") if isinstance(item, dict) else item or "") for key, item in data.items()}


class TemplateDataWidget(forms.Widget):
    """One input per keyword of the chosen template, and the message as the follower will see it.

    Inputs are named ``<name>__<keyword>``; the script rebuilds them when another template is chosen.
    """

    template_name = "admin/templatemsg/widgets/template_data.html"

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.message_template = None
        self.card_url = ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        template = self.message_template
        values = data_values(value)
        labels = keyword_labels(template.content) if template else {}
        keywords = list(template.keywords or []) if template else []
        context["widget"].update(
            rows=[(keyword, labels.get(keyword, keyword), values.get(keyword, "")) for keyword in keywords],
            card_title=template.title if template else "",
            card_url=self.card_url,
            max_chars=MAX_VALUE_CHARS,
        )
        return context

    def value_from_datadict(self, data, files, name):
        prefix = f"{name}__"
        return {key[len(prefix) :]: data.get(key, "") for key in data if key.startswith(prefix)}

    def value_omitted_from_data(self, data, files, name):
        return not any(key.startswith(f"{name}__") for key in data)

    class Media:
        js = ["templatemsg/template_data.js"]


class TemplateDataField(forms.Field):
    """Template data as {keyword: {"value": …}}; checked against the template by the services."""

    widget = TemplateDataWidget

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        return value if isinstance(value, dict) else {}

    def has_changed(self, initial, data):
        return data_values(initial) != data_values(data)


def template_data_setup(form, field_name: str = "data", card_url: str = "") -> None:
    """Point the data widget at the template the form has chosen (posted, initial or the instance's)."""
    templates = form.fields["template"].queryset
    if form.is_bound:
        pk = form.data.get(form.add_prefix("template"))
    else:
        pk = form.initial.get("template") or getattr(form.instance, "template_id", None)
    widget = form.fields[field_name].widget
    widget.message_template = templates.filter(pk=pk).first() if str(pk or "").isdigit() else None
    widget.card_url = card_url


class TemplateCardAdminMixin:
    """``template-card/<pk>/``: a template's title and keywords with their labels, for the data widget's script."""

    def get_urls(self):
        info = f"{self.model._meta.app_label}_{self.model._meta.model_name}"
        view = self.admin_site.admin_view(self.template_card_view)
        return [path("template-card/<int:pk>/", view, name=f"{info}_template_card"), *super().get_urls()]

    def template_card_url(self) -> str:
        info = f"{self.model._meta.app_label}_{self.model._meta.model_name}"
        return reverse(f"{self.admin_site.name}:{info}_template_card", args=[0]).replace("/0/", "/__pk__/")

    def template_card_view(self, request, pk):
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        template = get_object_or_404(MessageTemplate.objects.filter(account__in=accounts_for_user(request.user)), pk=pk)
        labels = keyword_labels(template.content)
        keywords = [{"name": k, "label": labels.get(k, k)} for k in template.keywords or []]
        return JsonResponse({"title": template.title, "keywords": keywords, "max_chars": MAX_VALUE_CHARS})
