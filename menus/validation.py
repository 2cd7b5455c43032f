"""WeChat's menu rules (API.md §6), checked before anything is saved or sent; each error names the rule and the button.

A tree is a list of buttons in WeChat's shape: ``{"name", "type", "key" | "url" | "media_id" | "article_id" |
"appid"+"pagepath"+"url", "sub_button": […]}``. The editor posts it, ``MenuButton`` rows store it and
``menu/create`` receives it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import ARTICLE_TYPES, KEY_TYPES, MEDIA_TYPES, URL_TYPES, ButtonType

MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5
MAX_NAME_BYTES = 16
MAX_SUB_NAME_BYTES = 60
MAX_KEY_BYTES = 128
MAX_URL_BYTES = 1024
# Permanent media ids and published article ids: WeChat's ids are URL-safe base64-like strings.
MATERIAL_ID = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
MINIPROGRAM_APPID = re.compile(r"^wx[0-9a-f]{16}$")
# Shown by get_current_selfmenu_info for menus made in the console; the API cannot publish them.
CONSOLE_TYPES = frozenset({"text", "img", "photo", "voice", "video", "news"})
FIELDS = ("type", "name", "key", "url", "media_id", "article_id", "appid", "pagepath")

# errcode WeChat answers for each rule, at the top level and for a sub-button
TOP = {"count": 40016, "type": 40017, "name": 40018, "key": 40019, "url": 40020, "domain": 40055}
SUB = {"count": 40023, "type": 40024, "name": 40025, "key": 40026, "url": 40027, "domain": 40054}


@dataclass(frozen=True)
class ButtonError:
    path: tuple[int, ...]  # (2,) is the third top-level button, (2, 0) its first sub-button; () the whole menu
    field: str
    message: str
    errcode: int | None = None

    def as_dict(self) -> dict:
        return {"path": list(self.path), "field": self.field, "message": self.message, "errcode": self.errcode}


def _bytes(value: str) -> int:
    return len(value.encode("utf-8"))


def button_label(path: tuple[int, ...], name: str) -> str:
    number = ".".join(str(i + 1) for i in path)
    if len(path) == 1:
        return _("Button %(number)s “%(name)s”") % {"number": number, "name": name}
    return _("Sub-button %(number)s “%(name)s”") % {"number": number, "name": name}


def _with_code(message: str, errcode: int | None) -> str:
    return f"{message} ({errcode})" if errcode else message


class _Checker:
    def __init__(self):
        self.errors: list[ButtonError] = []

    def add(self, path, field, message, errcode=None):
        self.errors.append(ButtonError(tuple(path), field, _with_code(message, errcode), errcode))

    def name(self, path, button, label, codes):
        name = button.get("name") or ""
        limit = MAX_NAME_BYTES if len(path) == 1 else MAX_SUB_NAME_BYTES
        if not name.strip():
            self.add(path, "name", _("%(button)s: a name is required.") % {"button": label}, codes["name"])
        elif _bytes(name) > limit:
            rule = (
                _("a top-level name takes at most %(limit)d bytes (5 Chinese characters)")
                if len(path) == 1
                else _("a sub-button name takes at most %(limit)d bytes (20 Chinese characters)")
            ) % {"limit": limit}
            self.add(
                path,
                "name",
                _("%(button)s: the name is %(n)d bytes; %(rule)s.") % {"button": label, "n": _bytes(name), "rule": rule},
                codes["name"],
            )

    def leaf(self, path, button, label, codes):
        kind = button.get("type") or ""
        if not kind:
            self.add(path, "type", _("%(button)s: choose what it does (a type), or give it sub-buttons.") % {"button": label})
            return
        if kind in CONSOLE_TYPES:
            self.add(
                path,
                "type",
                _(
                    "%(button)s: “%(type)s” buttons exist only in the WeChat console; the API cannot publish them. Choose another type."
                )
                % {"button": label, "type": kind},
                codes["type"],
            )
            return
        if kind not in ButtonType.values:
            self.add(path, "type", _("%(button)s: unknown type “%(type)s”.") % {"button": label, "type": kind}, codes["type"])
            return
        if kind in KEY_TYPES:
            self.key(path, button, label, codes)
        if kind in URL_TYPES:
            self.url(path, button, label, codes)
        if kind == ButtonType.MINIPROGRAM:
            if not MINIPROGRAM_APPID.match(button.get("appid") or ""):
                self.add(
                    path,
                    "appid",
                    _("%(button)s: the mini program AppID is “wx” and 16 hex digits, e.g. wx286b93c14bbf93aa.")
                    % {"button": label},
                    40166,
                )
            if not (button.get("pagepath") or "").strip():
                self.add(path, "pagepath", _("%(button)s: the mini program page path is required.") % {"button": label}, 40165)
        if kind in MEDIA_TYPES:
            self.material(path, button, label, "media_id", 40007)
        if kind in ARTICLE_TYPES:
            self.material(path, button, label, "article_id", 53600)

    def key(self, path, button, label, codes):
        key = button.get("key") or ""
        if not key:
            self.add(path, "key", _("%(button)s: a key is required for this type.") % {"button": label}, codes["key"])
        elif _bytes(key) > MAX_KEY_BYTES:
            self.add(
                path,
                "key",
                _("%(button)s: the key is %(n)d bytes; a key takes at most %(limit)d bytes.")
                % {"button": label, "n": _bytes(key), "limit": MAX_KEY_BYTES},
                codes["key"],
            )

    def url(self, path, button, label, codes):
        url = button.get("url") or ""
        kind = button.get("type")
        if not url:
            message = (
                _("%(button)s: a fallback URL is required (clients without mini programs open it).")
                if kind == ButtonType.MINIPROGRAM
                else _("%(button)s: a URL is required.")
            )
            self.add(path, "url", message % {"button": label}, codes["url"])
        elif _bytes(url) > MAX_URL_BYTES:
            self.add(
                path,
                "url",
                _("%(button)s: the URL is %(n)d bytes; a URL takes at most %(limit)d bytes.")
                % {"button": label, "n": _bytes(url), "limit": MAX_URL_BYTES},
                codes["url"],
            )
        elif not re.match(r"^https?://[^/\s]+", url, re.IGNORECASE):
            self.add(
                path, "url", _("%(button)s: the URL must start with http:// or https://.") % {"button": label}, codes["domain"]
            )

    def material(self, path, button, label, field, errcode):
        value = button.get(field) or ""
        if not value:
            self.add(path, field, _("%(button)s: choose the %(field)s.") % {"button": label, "field": field}, errcode)
        elif not MATERIAL_ID.match(value):
            self.add(
                path,
                field,
                _("%(button)s: “%(value)s” is not a %(field)s (letters, digits, - and _, at most 128).")
                % {"button": label, "value": value[:40], "field": field},
                errcode,
            )


def buttons_errors(tree) -> list[ButtonError]:
    """Every rule the tree breaks, in button order; empty when WeChat would take it."""
    check = _Checker()
    if not isinstance(tree, list) or not all(isinstance(b, dict) for b in tree):
        check.add((), "", _("The menu is not a list of buttons."))
        return check.errors
    if not 1 <= len(tree) <= MAX_BUTTONS:
        check.add((), "", _("A menu has 1 to 3 top-level buttons; this one has %(n)d.") % {"n": len(tree)}, TOP["count"])
    for i, button in enumerate(tree):
        path = (i,)
        label = button_label(path, button.get("name") or "")
        check.name(path, button, label, TOP)
        subs = button.get("sub_button") or []
        if not isinstance(subs, list) or not all(isinstance(s, dict) for s in subs):
            check.add(path, "sub_button", _("%(button)s: sub-buttons must be a list.") % {"button": label})
            continue
        if len(subs) > MAX_SUB_BUTTONS:
            check.add(
                path,
                "sub_button",
                _("%(button)s: at most 5 sub-buttons; it has %(n)d.") % {"button": label, "n": len(subs)},
                SUB["count"],
            )
        if not subs:
            check.leaf(path, button, label, TOP)
        for j, sub in enumerate(subs):
            sub_path = (i, j)
            sub_label = button_label(sub_path, sub.get("name") or "")
            check.name(sub_path, sub, sub_label, SUB)
            if sub.get("sub_button"):
                check.add(
                    sub_path,
                    "sub_button",
                    _("%(button)s: sub-buttons cannot have sub-buttons.") % {"button": sub_label},
                    SUB["count"],
                )
            check.leaf(sub_path, sub, sub_label, SUB)
    return check.errors


def buttons_clean(tree) -> list[dict]:
    """The tree in WeChat's shape (only the fields its type uses), or ``ValidationError`` listing every broken rule."""
    errors = buttons_errors(tree)
    if errors:
        raise ValidationError([e.message for e in errors], code="menu")
    return [_clean_button(b) for b in tree]


def _clean_button(button: dict) -> dict:
    subs = button.get("sub_button") or []
    if subs:
        return {"name": button["name"], "sub_button": [_clean_button(s) for s in subs]}
    kind = button["type"]
    out = {"type": kind, "name": button["name"]}
    if kind in KEY_TYPES:
        out["key"] = button["key"]
    if kind in URL_TYPES:
        out["url"] = button["url"]
    if kind == ButtonType.MINIPROGRAM:
        out.update(appid=button["appid"], pagepath=button["pagepath"].strip())
    if kind in MEDIA_TYPES:
        out["media_id"] = button["media_id"]
    if kind in ARTICLE_TYPES:
        out["article_id"] = button["article_id"]
    return out


def matchrule_errors(*, kind: str, tag_id, client_platform_type: str) -> list[str]:
    """A conditional menu matches by tag and/or client platform (WeChat refuses every other field, 65320)."""
    if kind == "conditional" and tag_id is None and not client_platform_type:
        return [_("A conditional menu matches followers by tag, by client platform, or both: choose at least one (65304).")]
    if kind == "default" and (tag_id is not None or client_platform_type):
        return [_("The default menu is shown to every follower: it has no tag or platform.")]
    return []
