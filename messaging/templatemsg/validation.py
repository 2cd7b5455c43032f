"""Checks on template message content, per WeChat's rules since 2023-05-04 (API.md §9). Pure functions."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

# {{keyword1.DATA}}; some SDK docs print it as { {keyword1.DATA} }.
_KEYWORD_RE = re.compile(r"\{\s*\{\s*([A-Za-z_][A-Za-z0-9_]*)\.DATA\s*\}\s*\}")
# No longer shown since 2023-05-04: the first line and the tail.
RETIRED_KEYWORDS = ("first", "remark")
MAX_VALUE_CHARS = 20
CLIENT_MSG_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_EMOJI_RE = re.compile("[\U0001f000-\U0001faff]")


def keywords_from_content(content: str) -> list[str]:
    """Keyword names in template content, in order, without the retired first/remark."""
    names: list[str] = []
    for name in _KEYWORD_RE.findall(content or ""):
        if name not in RETIRED_KEYWORDS and name not in names:
            names.append(name)
    return names


def content_render(content: str, data: dict) -> str:
    """A template's content with each {{keyword.DATA}} replaced by the value ``data`` gives it (empty when missing)."""

    def value(match) -> str:
        entry = data.get(match.group(1))
        return str(entry.get("value", "")) if isinstance(entry, dict) else str(entry or "")

    return _KEYWORD_RE.sub(value, content).strip()


def data_validate(*, keywords: list[str], data) -> dict:
    """Normalise ``data`` to WeChat's shape {"kw": {"value": "…"}} or raise ValidationError naming each bad keyword.

    A value may be given as a string or as {"value": "…"}; ``color`` is dropped (WeChat ignores it).
    """
    if not isinstance(data, dict):
        raise ValidationError(_('Data must be an object such as {"keyword1": {"value": "…"}}.'), code="data_type")
    errors: dict[str, str] = {}
    normalised: dict[str, dict] = {}
    for key, item in data.items():
        if key in RETIRED_KEYWORDS:
            errors[key] = _("WeChat no longer shows '%(key)s' (rule of 2023-05-04); remove it.") % {"key": key}
            continue
        if key not in keywords:
            errors[key] = _("The template has no keyword '%(key)s' (it has: %(keywords)s).") % {
                "key": key,
                "keywords": ", ".join(keywords) or "-",
            }
            continue
        value = item.get("value") if isinstance(item, dict) else item
        if not isinstance(value, str):
            errors[key] = _("The value must be text.")
        elif not value.strip():
            errors[key] = _("A value is required.")
        elif len(value) > MAX_VALUE_CHARS:
            errors[key] = _("At most %(max)d characters (this has %(n)d).") % {"max": MAX_VALUE_CHARS, "n": len(value)}
        elif "\n" in value or "\r" in value:
            errors[key] = _("Line breaks are not allowed.")
        elif _EMOJI_RE.search(value):
            errors[key] = _("Emoji are not allowed.")
        else:
            normalised[key] = {"value": value}
    for key in keywords:
        if key not in data:
            errors[key] = _("Missing: every keyword of the template needs a value.")
    if errors:
        raise ValidationError({key: ValidationError(msg, code="keyword") for key, msg in errors.items()})
    return normalised


def target_validate(*, url: str = "", miniprogram_appid: str = "", miniprogram_pagepath: str = "") -> None:
    errors = {}
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            errors["url"] = _("Enter a full http(s) URL.")
    if miniprogram_pagepath and not miniprogram_appid:
        errors["miniprogram_appid"] = _("A mini-program page needs the mini-program's AppID.")
    if errors:
        raise ValidationError(errors)


def client_msg_id_validate(value: str) -> None:
    if not CLIENT_MSG_ID_RE.match(value or ""):
        raise ValidationError(
            {"client_msg_id": _("Use 1 to 32 ASCII letters, digits, '-' or '_'.")},
            code="client_msg_id",
        )
