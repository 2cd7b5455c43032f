"""Reads of menus: the tree being edited, versions and their differences, click keys and their rules, picker choices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from followers.models import Tag
from media_assets.selectors import materials_usable, published_articles_usable
from messaging.autoreply.models import AutoReplyRule

from .models import Menu, MenuButton, MenuVersion
from .validation import FIELDS

EDITABLE_FIELDS = (*FIELDS, "console_value")


def menu_tree(*, menu: Menu) -> list[dict]:
    """The menu's buttons in WeChat's shape, with empty fields left out."""
    rows = list(MenuButton.objects.filter(menu=menu).order_by("position", "id"))
    children: dict[int, list[MenuButton]] = {}
    for row in rows:
        if row.parent_id:
            children.setdefault(row.parent_id, []).append(row)

    def as_dict(row: MenuButton) -> dict:
        out = {f: getattr(row, f) for f in EDITABLE_FIELDS if getattr(row, f) not in ("", None)}
        if row.pk in children:
            out.pop("type", None)
            out["sub_button"] = [as_dict(c) for c in children[row.pk]]
        return out

    return [as_dict(row) for row in rows if row.parent_id is None]


def menu_default(*, account) -> Menu | None:
    return Menu.objects.filter(account=account, kind=Menu.Kind.DEFAULT).first()


def version_last_published(*, account, menu: Menu | None = None) -> MenuVersion | None:
    """The newest version published from here: of ``menu``, or of the account's default menu."""
    versions = MenuVersion.objects.filter(account=account)
    versions = versions.filter(menu=menu) if menu is not None else versions.filter(kind=Menu.Kind.DEFAULT)
    return versions.order_by("-number").first()


def buttons_for_click_key(*, account_id: int, key: str) -> QuerySet[MenuButton]:
    """The click buttons (in any of the account's menus) that send ``key``."""
    return MenuButton.objects.filter(menu__account_id=account_id, type="click", key=key).select_related("menu")


def click_rules(*, account_id: int) -> dict[str, AutoReplyRule]:
    """The menu-click rules of an account by key (the first by priority when several share one)."""
    rules: dict[str, AutoReplyRule] = {}
    for rule in AutoReplyRule.objects.filter(account_id=account_id, trigger=AutoReplyRule.Trigger.CLICK).order_by(
        "-priority", "id"
    ):
        rules.setdefault(rule.event_key.strip(), rule)
    return rules


# Differences between two trees


@dataclass(frozen=True)
class DiffRow:
    label: str
    change: str  # added, removed, changed
    before: str
    after: str


def _flat(tree: list[dict]) -> dict[tuple[int, ...], dict]:
    out = {}
    for i, button in enumerate(tree or []):
        out[(i,)] = {k: v for k, v in button.items() if k != "sub_button"}
        for j, sub in enumerate(button.get("sub_button") or []):
            out[(i, j)] = {k: v for k, v in sub.items() if k != "sub_button"}
    return out


def _describe(button: dict) -> str:
    shown = [f"{k}={v}" for k, v in button.items() if k not in ("name", "console_value", "news_info")]
    return f"{button.get('name', '')} ({', '.join(shown)})" if shown else str(button.get("name", ""))


def buttons_diff(before: list[dict], after: list[dict]) -> list[DiffRow]:
    """What changed between two trees, button by button in position order."""
    old, new = _flat(before), _flat(after)
    rows = []
    for path in sorted(set(old) | set(new)):
        number = ".".join(str(i + 1) for i in path)
        label = (_("Button %(number)s") if len(path) == 1 else _("Sub-button %(number)s")) % {"number": number}
        a, b = old.get(path), new.get(path)
        if a == b:
            continue
        if a is None:
            rows.append(DiffRow(label, "added", "", _describe(b)))
        elif b is None:
            rows.append(DiffRow(label, "removed", _describe(a), ""))
        else:
            keys = [k for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k)]
            rows.append(
                DiffRow(
                    label,
                    "changed",
                    "; ".join(f"{k}: {a.get(k, '–')}" for k in keys),
                    "; ".join(f"{k}: {b.get(k, '–')}" for k in keys),
                )
            )
    return rows


# Pickers of the editor. Each takes the account and a search text and returns (value, label) pairs.

# Material kinds a media_id button may show (WeChat: a permanent material; a thumb is never shown alone).
MENU_MEDIA_KINDS = ("image", "voice", "video")


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def _used_values(account_id: int, field: str, query: str) -> list[Choice]:
    """Values this account's menus already use (their buttons and published versions)."""
    values = dict.fromkeys(
        MenuButton.objects.filter(menu__account_id=account_id).exclude(**{field: ""}).values_list(field, flat=True)
    )
    for buttons in MenuVersion.objects.filter(account_id=account_id).values_list("buttons", flat=True):
        for button in _flat(buttons).values():
            if button.get(field):
                values.setdefault(button[field])
    return [Choice(v, v) for v in values if query.lower() in v.lower()]


def click_key_choices(*, account_id: int, query: str = "") -> list[Choice]:
    return [
        Choice(key, f"{key} · {rule.name}")
        for key, rule in click_rules(account_id=account_id).items()
        if key and (query.lower() in key.lower() or query.lower() in rule.name.lower())
    ]


def _merged(choices: list[Choice], used: list[Choice]) -> list[Choice]:
    """The library's choices first, then ids the menus use that the library does not hold (kept visible)."""
    known = {c.value for c in choices}
    return choices + [c for c in used if c.value not in known]


def media_choices(*, account_id: int, query: str = "") -> list[Choice]:
    """Permanent materials (a button's media_id must name one) from the media library."""
    q = query.lower()
    choices = [
        Choice(m.media_id, f"{m.title or m.name or m.media_id} · {m.get_kind_display()}")
        for m in materials_usable(account=account_id, kinds=MENU_MEDIA_KINDS).order_by("-created_at")[:200]
        if q in m.media_id.lower() or q in (m.title or m.name or "").lower()
    ]
    return _merged(choices, _used_values(account_id, "media_id", query))


def article_choices(*, account_id: int, query: str = "") -> list[Choice]:
    """Published articles (a button's article_id) from the media library, one choice per article_id."""
    q = query.lower()
    titles: dict[str, str] = {}
    for article in published_articles_usable(accounts=[account_id])[:500]:
        titles.setdefault(article.article_id, article.title)
    choices = [Choice(aid, f"{title} · {aid}") for aid, title in titles.items() if q in aid.lower() or q in title.lower()]
    return _merged(choices, _used_values(account_id, "article_id", query))


def miniprogram_choices(*, account_id: int, query: str = "") -> list[Choice]:
    return _used_values(account_id, "appid", query)


# The editor asks /picker/<field>/ for these; point an entry at another selector to change where choices come from.
PICKERS: dict[str, Callable[..., list[Choice]]] = {
    "key": click_key_choices,
    "media_id": media_choices,
    "article_id": article_choices,
    "appid": miniprogram_choices,
}


def tag_choices(*, accounts) -> list[tuple[int, str]]:
    """WeChat tag ids of the accounts' tags, for conditional menus."""
    tags = Tag.objects.filter(account__in=accounts, wechat_id__isnull=False).select_related("account").order_by("account", "name")
    return [(t.wechat_id, f"{t.name} ({t.wechat_id}) · {t.account}") for t in tags]
