"""OAuth2 web login views (网页授权). Thin: the WeChat side is in ``accounts.oauth``."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wechat.errors import WeChatError

from . import oauth
from .models import OfficialAccount
from .signals import oauth_login

logger = logging.getLogger(__name__)


def _page(request, account, *, title: str, message: str, status: int, restart: bool = True):
    context = {"account": account, "title": title, "message": message, "restart": restart}
    return render(request, "accounts/oauth/message.html", context, status=status)


@require_GET
def oauth_start(request, appid):
    account = get_object_or_404(OfficialAccount, appid=appid)
    scope = request.GET.get("scope") or "snsapi_base"
    if scope not in oauth.SCOPES:
        return _page(
            request,
            account,
            title=_("Unknown scope"),
            message=_("scope must be snsapi_base or snsapi_userinfo."),
            status=400,
            restart=False,
        )
    next_url = request.GET.get("next") or reverse("accounts:oauth-me", args=[appid])
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return _page(
            request,
            account,
            title=_("Redirect refused"),
            message=_("“next” must be a page of this site."),
            status=400,
            restart=False,
        )
    host = request.get_host().rsplit(":", 1)[0].lower()
    if (
        not oauth.is_sandbox(account)
        and host not in account.allowed_domains
        and request.get_host().lower() not in account.allowed_domains
    ):
        message = _(
            "%(host)s is not among this account's OAuth domains. Add it in the WeChat console (网页授权域名) "
            "and to the account's JS-SDK / OAuth domains."
        ) % {"host": host}
        return _page(request, account, title=_("Domain not allowed"), message=message, status=400, restart=False)
    state = oauth.state_new()
    oauth.state_remember(request.session, state=state, appid=appid, next_url=next_url, scope=scope)
    redirect_uri = request.build_absolute_uri(reverse("accounts:oauth-callback", args=[appid]))
    return HttpResponseRedirect(oauth.authorize_url(account=account, redirect_uri=redirect_uri, scope=scope, state=state))


@require_GET
def oauth_callback(request, appid):
    account = get_object_or_404(OfficialAccount, appid=appid)
    entry = oauth.state_take(request.session, state=request.GET.get("state", ""), appid=appid)
    if entry is None:
        return _page(
            request,
            account,
            title=_("Login link not valid"),
            message=_("This login did not start here, was already used or took too long. Please start again."),
            status=400,
        )
    code = request.GET.get("code", "")
    if not code:
        return _page(
            request,
            account,
            title=_("Authorisation declined"),
            message=_("You declined the authorisation (拒绝授权)."),
            status=403,
        )
    try:
        token = oauth.code_exchange(account=account, code=code)
    except WeChatError as exc:
        if exc.errcode in (40029, 40163):
            message = _("The login code expired or was already used (WeChat %(errcode)s). Please start again.") % {
                "errcode": exc.errcode
            }
            return _page(request, account, title=_("Login expired"), message=message, status=400)
        logger.warning("oauth.code_exchange_failed", extra={"appid": appid, "errcode": exc.errcode})
        return _page(request, account, title=_("WeChat login failed"), message=exc.display, status=502)
    if int(token.get("is_snapshotuser") or 0) == 1:
        message = _("This page was opened as a Moments snapshot (朋友圈快照页). Open the full page to log in.")
        return _page(request, account, title=_("Open the full page"), message=message, status=403)
    openid, unionid, scope = token["openid"], token.get("unionid", ""), token.get("scope", entry["scope"])
    nickname = ""
    if "snsapi_userinfo" in scope:
        try:
            info = oauth.userinfo_fetch(account=account, access_token=token["access_token"], openid=openid)
        except WeChatError as exc:
            logger.warning("oauth.userinfo_failed", extra={"appid": appid, "errcode": exc.errcode})
        else:
            nickname = info.get("nickname", "")
            unionid = unionid or info.get("unionid", "")
    oauth_login.send(sender=OfficialAccount, account=account, openid=openid, unionid=unionid)
    oauth.visitor_login(request, account=account, openid=openid, scope=scope, unionid=unionid, nickname=nickname)
    return HttpResponseRedirect(entry["next"])


@require_GET
def oauth_me(request, appid):
    account = get_object_or_404(OfficialAccount, appid=appid)
    context = {"account": account, "visitor": oauth.visitor(request, account=account)}
    return render(request, "accounts/oauth/me.html", context)


@require_POST
def oauth_logout(request, appid):
    account = get_object_or_404(OfficialAccount, appid=appid)
    oauth.visitor_logout(request, account=account)
    return HttpResponseRedirect(reverse("accounts:oauth-me", args=[appid]))


def login_locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login (``AXES_LOCKOUT_CALLABLE``): the admin's page with the reason, 429."""

    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    context = {
        **admin.site.each_context(request),
        "title": _("Login locked"),
        "is_nav_sidebar_enabled": False,  # as on the login page
        "cooloff_minutes": minutes,
        "login_url": reverse("admin:login"),
    }
    return render(request, "accounts/login_locked_out.html", context, status=429)
