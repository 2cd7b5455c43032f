"""The follower simulator: a phone that sends signed callbacks and shows what the follower received."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.selectors import accounts_for_user

from . import images, phone
from .endpoints.media import follower_media_put
from .models import SandboxApp, SandboxDelivery

DEFAULT_OPENID = "oSandboxFollower0000000000001"


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
    timeline = SandboxDelivery.objects.filter(app=app, openid=openid).order_by("created_at", "id")[:200] if app else []
    return render(request, "sandbox/simulator.html", {"apps": apps, "app": app, "openid": openid, "timeline": timeline})


def _comment(request, app, openid: str) -> None:
    """The follower comments (留言) on the latest published article of the app, as a reader does in WeChat."""
    from .core import SandboxError
    from .endpoints.comments import comment_write
    from .models import SandboxPublish

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
