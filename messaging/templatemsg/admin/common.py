"""Shared pieces of the template-message admin: status badges, form errors from services, the JSON data field."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from messaging.templatemsg.models import TemplateMessage, TemplatePush
from messaging.templatemsg.validation import keywords_from_content
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


class JSONDataField(forms.CharField):
    """Template data as JSON, shown indented."""

    widget = forms.Textarea(attrs={"rows": 6, "cols": 60, "style": "font-family:monospace"})

    def prepare_value(self, value):
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False, indent=2)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return {}
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from exc


def template_lines(template, data) -> list[tuple[str, str]]:
    """The message as the follower sees it: (label, value) per keyword line of the template's content."""
    values = {key: (item.get("value") if isinstance(item, dict) else item) for key, item in (data or {}).items()}
    lines = []
    for line in (template.content or "").splitlines():
        names = keywords_from_content(line)
        if not names:
            continue
        label = line.split("{", 1)[0].strip().rstrip("：:").strip()
        lines.append((label or names[0], "".join(str(values.get(name) or "") for name in names)))
    return lines
