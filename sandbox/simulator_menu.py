"""The simulator's menu bar: the menu the account published (conditional menus by the follower's tags), tapped like
WeChat does it. A click sends CLICK, a link VIEW (with MenuId), the other types their own events; opening a sub-menu
sends nothing."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import phone
from .endpoints.menus import menu_for
from .simulator import apps_for_user

NO_EVENT_TYPES = {"media_id", "view_limited", "article_id", "article_view_limited"}


def menu_bar(app, openid: str) -> dict | None:
    """What the phone shows: the buttons of the follower's menu and its menuid, or None without a menu."""
    if app is None:
        return None
    menu = menu_for(app, openid)
    if menu is None:
        return None
    buttons = [
        {**b, "path": str(i), "subs": [{**s, "path": f"{i}.{j}"} for j, s in enumerate(b.get("sub_button") or [])]}
        for i, b in enumerate(menu.buttons)
    ]
    return {"menuid": menu.menuid, "conditional": menu.conditional, "buttons": buttons}


def _button(buttons: list[dict], path: str) -> dict | None:
    try:
        indexes = [int(i) for i in path.split(".")]
        button = buttons[indexes[0]]
        return button["sub_button"][indexes[1]] if len(indexes) == 2 else button
    except (ValueError, IndexError, KeyError, TypeError):
        return None


def event_fields(button: dict, menuid: int) -> dict | None:
    """The event WeChat pushes when a follower taps ``button``; None for types that push nothing."""
    kind = button.get("type", "")
    key = button.get("key", "")
    if kind == "click":
        return {"MsgType": "event", "Event": "CLICK", "EventKey": key}
    if kind == "view":
        return {"MsgType": "event", "Event": "VIEW", "EventKey": button.get("url", ""), "MenuId": menuid}
    if kind == "miniprogram":
        return {"MsgType": "event", "Event": "view_miniprogram", "EventKey": button.get("pagepath", ""), "MenuId": menuid}
    if kind in ("scancode_push", "scancode_waitmsg"):
        info = {"ScanType": "qrcode", "ScanResult": "https://example.com/sandbox-scan"}
        return {"MsgType": "event", "Event": kind, "EventKey": key, "ScanCodeInfo": info}
    if kind in ("pic_sysphoto", "pic_photo_or_album", "pic_weixin"):
        md5 = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
        return {
            "MsgType": "event",
            "Event": kind,
            "EventKey": key,
            "SendPicsInfo": {"Count": "1", "PicList": [{"PicMd5Sum": md5}]},
        }
    if kind == "location_select":
        info = {"Location_X": "23.134521", "Location_Y": "113.358803", "Scale": "15", "Label": "广州市天河区", "Poiname": ""}
        return {"MsgType": "event", "Event": "location_select", "EventKey": key, "SendLocationInfo": info}
    return None


@staff_member_required
@require_POST
def menu_tap(request):
    app = next((a for a in apps_for_user(request.user) if a.appid == request.POST.get("appid")), None)
    if app is None:
        raise Http404
    openid = (request.POST.get("openid") or "").strip()[:64]
    back = redirect(f"{reverse_simulator()}?{urlencode({'appid': app.appid, 'openid': openid})}")
    menu = menu_for(app, openid)
    button = _button(menu.buttons, request.POST.get("path", "")) if menu else None
    if button is None or button.get("sub_button"):
        messages.error(request, _("That button is no longer in the published menu; the page shows the current one."))
        return back
    fields = event_fields(button, menu.menuid)
    if fields is None:
        if button.get("type") in NO_EVENT_TYPES:
            messages.info(request, _("WeChat shows the material or article itself; no event reaches the callback."))
        return back
    result = phone.follower_sends(app, openid, fields)
    if result.status != 200:
        messages.error(
            request, _("The callback answered HTTP %(status)s: %(body)s") % {"status": result.status, "body": result.body[:200]}
        )
    return back


def reverse_simulator() -> str:
    from django.urls import reverse

    return reverse("sandbox:simulator")
