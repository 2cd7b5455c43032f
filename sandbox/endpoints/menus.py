"""Custom menus (API.md §6): create, get, delete, conditional menus, trymatch and the live menu, with WeChat's checks.

An independent stand-in for WeChat: the limits below are restated here, not imported from the menus app.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from ..core import Call, SandboxError, endpoint
from ..models import SandboxFollower, SandboxMenu

MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5
MAX_NAME_BYTES = 16
MAX_SUB_NAME_BYTES = 60
MAX_KEY_BYTES = 128
MAX_URL_BYTES = 1024
# WeChat publishes no figure for conditional menus per account; the sandbox stands in with this one (65305).
MAX_CONDITIONAL_MENUS = 20
FIRST_MENUID = 208_396_938
KEY_TYPES = {
    "click",
    "scancode_push",
    "scancode_waitmsg",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
}
MEDIA_TYPES = {"media_id", "view_limited"}
ARTICLE_TYPES = {"article_id", "article_view_limited"}
TYPES = KEY_TYPES | MEDIA_TYPES | ARTICLE_TYPES | {"view", "miniprogram"}
MATCHRULE_FIELDS = {"tag_id", "client_platform_type"}
PRIVACY_FIELDS = {"group_id", "sex", "country", "province", "city", "language"}
PLATFORMS = {"1", "2", "3"}  # iOS, Android, other
# The platform of every sandbox follower's phone: the simulator shows WeChat for Android.
FOLLOWER_PLATFORM = "2"

# errcodes for the top level / a sub-button: count, type, name size, key size, url size, url domain
TOP = {"count": 40016, "type": 40017, "name": 40018, "key": 40019, "url": 40020, "domain": 40055}
SUB = {"count": 40023, "type": 40024, "name": 40025, "key": 40026, "url": 40027, "domain": 40054}
ERRMSGS = {
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40054: "invalid sub button url domain",
    40055: "invalid button url domain",
    40007: "invalid media_id",
    40165: "invalid weapp pagepath",
    40166: "invalid weapp appid",
    46003: "menu no exist",
    53600: "invalid article_id",
    65301: "no such conditional menu",
    65302: "no such user",
    65303: "there is no selfmenu, please create selfmenu first",
    65304: "match rule empty",
    65305: "menu count limit",
    65320: "matchrule contains privacy fields",
}


def _refuse(errcode: int):
    raise SandboxError(errcode, ERRMSGS.get(errcode, ""))


def _bytes(value) -> int:
    return len(str(value).encode("utf-8"))


def _url_ok(url) -> bool:
    return isinstance(url, str) and url.lower().startswith(("http://", "https://")) and len(url) > len("https://")


def _check_leaf(button: dict, codes: dict) -> None:
    kind = button.get("type")
    if kind not in TYPES:
        _refuse(codes["type"])
    if kind in KEY_TYPES:
        key = button.get("key")
        if not isinstance(key, str) or not key or _bytes(key) > MAX_KEY_BYTES:
            _refuse(codes["key"])
    if kind in ("view", "miniprogram"):
        url = button.get("url")
        if not isinstance(url, str) or not url or _bytes(url) > MAX_URL_BYTES:
            _refuse(codes["url"])
        if not _url_ok(url):
            _refuse(codes["domain"])
    if kind == "miniprogram":
        if not str(button.get("appid") or "").startswith("wx"):
            _refuse(40166)
        if not button.get("pagepath"):
            _refuse(40165)
    if kind in MEDIA_TYPES and not button.get("media_id"):
        _refuse(40007)
    if kind in ARTICLE_TYPES and not button.get("article_id"):
        _refuse(53600)


def _check_name(button: dict, limit: int, code: int) -> None:
    name = button.get("name")
    if not isinstance(name, str) or not name or _bytes(name) > limit:
        _refuse(code)


def check_buttons(buttons) -> list[dict]:
    """The buttons as WeChat checks them on menu/create and menu/addconditional, or its errcode."""
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        _refuse(TOP["count"])
    for button in buttons:
        if not isinstance(button, dict):
            raise SandboxError(47001)
        _check_name(button, MAX_NAME_BYTES, TOP["name"])
        subs = button.get("sub_button") or []
        if not isinstance(subs, list) or len(subs) > MAX_SUB_BUTTONS:
            _refuse(SUB["count"])
        if not subs:
            _check_leaf(button, TOP)
            continue
        for sub in subs:
            if not isinstance(sub, dict) or sub.get("sub_button"):
                _refuse(SUB["count"])
            _check_name(sub, MAX_SUB_NAME_BYTES, SUB["name"])
            _check_leaf(sub, SUB)
    return buttons


def _menu_create(app, **fields) -> SandboxMenu:
    """A new menu with a menuid never used before on this app (WeChat does not reuse them)."""
    with transaction.atomic():
        last = SandboxMenu.objects.filter(app=app).aggregate(m=Max("menuid"))["m"]
        menu = SandboxMenu.objects.create(app=app, menuid=(last or 0) + FIRST_MENUID, **fields)
        menu.menuid = FIRST_MENUID + menu.pk
        menu.save(update_fields=["menuid"])
    return menu


def _default(app) -> SandboxMenu | None:
    return SandboxMenu.objects.filter(app=app, conditional=False).first()


def _stored(buttons: list[dict]) -> list[dict]:
    """As menu/get answers: every leaf carries an empty sub_button list."""
    out = []
    for button in buttons:
        subs = button.get("sub_button") or []
        row = {k: v for k, v in button.items() if k != "sub_button"}
        row["sub_button"] = _stored(subs) if subs else []
        out.append(row)
    return out


@endpoint("cgi-bin/menu/create", methods=("POST",))
def create(call: Call) -> dict:
    buttons = check_buttons(call.json.get("button"))
    with transaction.atomic():
        SandboxMenu.objects.filter(app=call.app, conditional=False).delete()
        _menu_create(call.app, buttons=_stored(buttons))
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("cgi-bin/menu/get", methods=("GET",))
def get(call: Call) -> dict:
    default = _default(call.app)
    if default is None or default.made_in_console:
        _refuse(46003)  # menu/get shows API-created menus only
    body = {"menu": {"button": default.buttons, "menuid": default.menuid}}
    conditional = SandboxMenu.objects.filter(app=call.app, conditional=True).order_by("-id")
    if conditional:
        body["conditionalmenu"] = [{"button": m.buttons, "matchrule": m.matchrule, "menuid": m.menuid} for m in conditional]
    return body


@endpoint("cgi-bin/menu/delete", methods=("GET",))
def delete(call: Call) -> dict:
    SandboxMenu.objects.filter(app=call.app).delete()
    return {"errcode": 0, "errmsg": "ok"}


def _matchrule(raw) -> dict:
    if not isinstance(raw, dict) or not any(str(v) for v in raw.values()):
        _refuse(65304)
    if set(raw) & PRIVACY_FIELDS or set(raw) - MATCHRULE_FIELDS - PRIVACY_FIELDS:
        _refuse(65320)
    rule = {k: str(v) for k, v in raw.items() if str(v)}
    if "client_platform_type" in rule and rule["client_platform_type"] not in PLATFORMS:
        _refuse(65320)
    if "tag_id" in rule and not rule["tag_id"].isdigit():
        raise SandboxError(45159, "invalid tag id")
    return rule


@endpoint("cgi-bin/menu/addconditional", methods=("POST",))
def addconditional(call: Call) -> dict:
    buttons = check_buttons(call.json.get("button"))
    rule = _matchrule(call.json.get("matchrule"))
    default = _default(call.app)
    if default is None:
        _refuse(65303)
    if SandboxMenu.objects.filter(app=call.app, conditional=True).count() >= MAX_CONDITIONAL_MENUS:
        _refuse(65305)
    menu = _menu_create(call.app, conditional=True, buttons=_stored(buttons), matchrule=rule)
    return {"menuid": str(menu.menuid)}


@endpoint("cgi-bin/menu/delconditional", methods=("POST",))
def delconditional(call: Call) -> dict:
    try:
        menuid = int(call.json.get("menuid"))
    except (TypeError, ValueError):
        _refuse(65301)
    if not SandboxMenu.objects.filter(app=call.app, conditional=True, menuid=menuid).delete()[0]:
        _refuse(65301)
    return {"errcode": 0, "errmsg": "ok"}


def menu_for(app, openid: str) -> SandboxMenu | None:
    """The menu a follower sees: the newest conditional menu whose rule matches, else the default one."""
    default = _default(app)
    if default is None:
        return None
    follower = SandboxFollower.objects.filter(app=app, openid=openid).first()
    tagids = {str(t) for t in (follower.tagids if follower else [])}
    for menu in SandboxMenu.objects.filter(app=app, conditional=True).order_by("-id"):
        rule = menu.matchrule
        if "tag_id" in rule and rule["tag_id"] not in tagids:
            continue
        if "client_platform_type" in rule and rule["client_platform_type"] != FOLLOWER_PLATFORM:
            continue
        return menu
    return default


@endpoint("cgi-bin/menu/trymatch", methods=("POST",))
def trymatch(call: Call) -> dict:
    user_id = str(call.json.get("user_id") or "")
    if not SandboxFollower.objects.filter(app=call.app, openid=user_id, subscribed=True).exists():
        _refuse(65302)
    menu = menu_for(call.app, user_id)
    if menu is None or menu.made_in_console:
        _refuse(46003)
    return {"button": menu.buttons}


def _selfmenu(buttons: list[dict]) -> list[dict]:
    out = []
    for button in buttons:
        subs = button.get("sub_button")
        row = {k: v for k, v in button.items() if k != "sub_button"}
        if isinstance(subs, dict):  # a console menu, already in this shape
            row["sub_button"] = subs
        elif subs:
            row["sub_button"] = {"list": _selfmenu(subs)}
        out.append(row)
    return out


@endpoint("cgi-bin/get_current_selfmenu_info", methods=("GET",))
def current_selfmenu_info(call: Call) -> dict:
    default = _default(call.app)
    if default is None:
        return {"is_menu_open": 0}
    return {"is_menu_open": 1, "selfmenu_info": {"button": _selfmenu(default.buttons)}}


def console_menu_set(app, selfmenu_buttons: list[dict]) -> SandboxMenu:
    """A menu made in the WeChat console (公众平台): only get_current_selfmenu_info shows it. For tests and demos."""
    with transaction.atomic():
        SandboxMenu.objects.filter(app=app).delete()
        return _menu_create(app, buttons=selfmenu_buttons, made_in_console=True)
