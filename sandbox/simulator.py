"""The follower simulator: a phone that sends signed callbacks and shows what the follower received."""

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.models import OfficialAccount
from accounts.selectors import accounts_for_user

from . import images, phone
from .core import SandboxError
from .endpoints.comments import comment_write
from .endpoints.media import follower_media_put
from .models import SandboxApp, SandboxDelivery, SandboxPublish, SandboxTemplate

DEFAULT_OPENID = "oSandboxFollower0000000000001"
TIMELINE_LIMIT = 200
# How often the open page asks for new messages (customer service, template and mass messages arrive any time).
POLL_SECONDS = 2
# One line of a template's content: "商品名称：{{keyword1.DATA}}" (the label may be empty, as for first/remark).
_TEMPLATE_LINE = re.compile(r"^\s*(.*?)[:：]?\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\.DATA\s*\}\}", re.MULTILINE)


def _fields_for(action: str, post) -> dict | None:
    text = post.get("content", "").strip()
    key = post.get("key", "").strip()
    if action == "text" and text:
        return {"MsgType": "text", "Content": text}
    if action == "subscribe":
        return {"MsgType": "event", "Event": "subscribe", "EventKey": f"qrscene_{key}" if key else ""}
    if action == "unsubscribe":
        return {"MsgType": "event", "Event": "unsubscribe", "EventKey": ""}
    if action == "click" and key:
        return {"MsgType": "event", "Event": "CLICK", "EventKey": key}
    if action == "scan" and key:
        return {"MsgType": "event", "Event": "SCAN", "EventKey": key, "Ticket": "sandbox-ticket"}
    if action == "location":
        return {
            "MsgType": "location",
            "Location_X": "23.134521",
            "Location_Y": "113.358803",
            "Scale": "20",
            "Label": text or "广州市天河区",
        }
    return None


def _picture_fields(app: SandboxApp, post) -> dict:
    """The follower sends a picture: WeChat keeps it as a temporary media the account downloads (media/get)."""
    label = post.get("content", "").strip()[:20] or "photo"
    media_id = follower_media_put(app, kind="image", content=images.png(width=240, height=160, color="#576b95", label=label))
    return {"MsgType": "image", "PicUrl": f"http://mmbiz.qpic.cn/mmbiz_png/sandbox/{media_id[:16]}/0", "MediaId": media_id}


def apps_for_user(user):
    """The sandbox apps of the accounts the user operates (superusers: all)."""
    apps = SandboxApp.objects.order_by("appid")
    return apps if user.is_superuser else apps.filter(appid__in=accounts_for_user(user).values("appid"))


def template_rows(content: str, data: dict) -> list[tuple[str, str, str]]:
    """A template message as the phone shows it: (field label, value, colour) in the template's order."""
    rows, seen = [], set()
    for label, key in _TEMPLATE_LINE.findall(content or ""):
        if key in data and key not in seen:
            seen.add(key)
            rows.append((label.strip(), str(data[key].get("value", "")), str(data[key].get("color", ""))))
    rows += [(key, str(v.get("value", "")), str(v.get("color", ""))) for key, v in data.items() if key not in seen]
    return rows


def timeline(app: SandboxApp, openid: str, *, after: int = 0) -> list[SandboxDelivery]:
    """What the follower sent and received, oldest first; only rows newer than ``after`` when it is given."""
    rows = SandboxDelivery.objects.filter(app=app, openid=openid)
    if after:
        items = list(rows.filter(pk__gt=after).order_by("id")[:TIMELINE_LIMIT])
    else:
        items = list(rows.order_by("-id")[:TIMELINE_LIMIT])[::-1]
    template_ids = {i.payload.get("template_id") for i in items if i.msgtype == "template"}
    contents = dict(SandboxTemplate.objects.filter(app=app, template_id__in=template_ids).values_list("template_id", "content"))
    for item in items:
        if item.msgtype == "template":
            item.template_rows = template_rows(contents.get(item.payload.get("template_id"), ""), item.payload.get("data") or {})
    return items


def _timeline_context(app, openid: str, items: list, after: int) -> dict:
    last = items[-1].pk if items else after
    return {
        "timeline": items,
        "poll_query": urlencode({"appid": app.appid, "openid": openid, "after": last}),
        "poll_seconds": POLL_SECONDS,
    }


@staff_member_required
def phone_page(request):
    apps = list(apps_for_user(request.user))
    app = next((a for a in apps if a.appid == request.GET.get("appid")), apps[0] if apps else None)
    openid = (request.GET.get("openid") or DEFAULT_OPENID).strip()[:64]
    if request.method == "POST" and app is not None and request.POST.get("action") == "comment":
        _comment(request, app, openid)
        return redirect(f"{request.path}?{urlencode({'appid': app.appid, 'openid': openid})}")
    if request.method == "POST" and app is not None:
        action = request.POST.get("action", "")
        fields = _picture_fields(app, request.POST) if action == "image" else _fields_for(action, request.POST)
        if fields is None:
            messages.error(request, _("Type a message, or give a key for menu clicks and scans."))
        else:
            result = phone.follower_sends(app, openid, fields)
            if result.status != 200:
                messages.error(
                    request,
                    _("The callback answered HTTP %(status)s: %(body)s") % {"status": result.status, "body": result.body[:200]},
                )
        return redirect(f"{request.path}?{urlencode({'appid': app.appid, 'openid': openid})}")
    names = dict(OfficialAccount.objects.filter(appid__in=[a.appid for a in apps]).values_list("appid", "name"))
    for a in apps:
        a.account_name = names.get(a.appid) or a.original_id
    context = {"apps": apps, "app": app, "openid": openid}
    if app is not None:
        context.update(_timeline_context(app, openid, timeline(app, openid), 0))
    return render(request, "sandbox/simulator.html", context)


def timeline_partial(request):
    """The messages that reached the phone since ``after``, and the element that asks again (htmx polling).

    Refused with 403, not redirected to the login page: htmx swaps no error answer, so a page whose session ended
    keeps its messages instead of showing a login form inside the phone.
    """
    if not (request.user.is_active and request.user.is_staff):
        raise PermissionDenied
    app = apps_for_user(request.user).filter(appid=request.GET.get("appid", "")).first()
    if app is None:
        raise Http404
    openid = request.GET.get("openid", "").strip()[:64]
    try:
        after = max(0, int(request.GET.get("after") or 0))
    except ValueError:
        after = 0
    items = timeline(app, openid, after=after)
    return render(request, "sandbox/_timeline.html", _timeline_context(app, openid, items, after))


def _comment(request, app, openid: str) -> None:
    """The follower comments (留言) on the latest published article of the app, as a reader does in WeChat."""
    text = request.POST.get("content", "").strip()
    published = SandboxPublish.objects.filter(app=app, status=0).exclude(article_id="").order_by("-id").first()
    if not text or published is None:
        messages.error(request, _("Type a comment; the account needs a published article."))
        return
    try:
        comment_write(app, article_id=published.article_id, index=0, openid=openid, content=text)
    except SandboxError as exc:
        messages.error(request, f"{exc.errcode}: {exc.errmsg}")
    else:
        messages.success(request, _("Comment written on “%(title)s”.") % {"title": published.articles[0].get("title", "")})
