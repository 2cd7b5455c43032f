"""The simulator's QR codes: the account's codes as WeChat created them (qrcode/create), scanned by the phone.

A follower who does not follow yet sends subscribe with ``qrscene_<scene>``; one who follows sends SCAN with the
scene, both with the code's Ticket, as WeChat does (API.md §7). An expired temporary code does nothing.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import phone
from .core import app_now
from .models import SandboxFollower, SandboxQRCode
from .simulator import DEFAULT_OPENID, apps_for_user


def codes_for(app, *, now=None) -> list[dict]:
    """The app's codes, newest first and the expired ones last, with what a scan by a follower would send."""
    now = now or app_now(app)
    codes = []
    for code in SandboxQRCode.objects.filter(app=app).order_by("-created_at", "-id")[:100]:
        expired = code.expires_at is not None and code.expires_at <= now
        codes.append(
            {
                "code": code,
                "expired": expired,
                "seconds_left": None if code.permanent else max(0, int((code.expires_at - now).total_seconds())),
            }
        )
    return sorted(codes, key=lambda c: c["expired"])


def scan_fields(app, openid: str, code: SandboxQRCode) -> dict:
    following = SandboxFollower.objects.filter(app=app, openid=openid, subscribed=True).exists()
    if following:
        return {"MsgType": "event", "Event": "SCAN", "EventKey": code.scene, "Ticket": code.ticket}
    return {"MsgType": "event", "Event": "subscribe", "EventKey": f"qrscene_{code.scene}", "Ticket": code.ticket}


@staff_member_required
@require_POST
def scan(request):
    app = get_object_or_404(apps_for_user(request.user), appid=request.POST.get("appid", ""))
    openid = (request.POST.get("openid") or DEFAULT_OPENID).strip()[:64]
    code = get_object_or_404(SandboxQRCode, app=app, ticket=request.POST.get("ticket", ""))
    if code.expires_at is not None and code.expires_at <= app_now(app):
        messages.error(request, _("This QR code has expired: WeChat no longer answers a scan of it."))
    else:
        result = phone.follower_sends(app, openid, scan_fields(app, openid, code))
        if result.status != 200:
            messages.error(
                request,
                _("The callback answered HTTP %(status)s: %(body)s") % {"status": result.status, "body": result.body[:200]},
            )
    return redirect(f"/sandbox/simulator/?{urlencode({'appid': app.appid, 'openid': openid})}")
