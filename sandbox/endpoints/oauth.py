"""OAuth2 web authorisation (网页授权, API.md §10): the consent page and the sns/* endpoints.

The code is single-use (40163 on reuse) and expires after 5 minutes (40029); the sns access_token
lasts 7200 s and the refresh_token 30 days (42002 after that).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.http.request import validate_host
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme

from ..core import Call, SandboxError, app_by_appid, endpoint
from ..models import SandboxFollower, SandboxOAuthGrant

CODE_TTL = timedelta(minutes=5)
ACCESS_TTL = timedelta(seconds=7200)
REFRESH_TTL = timedelta(days=30)
SCOPES = ("snsapi_base", "snsapi_userinfo")


AUTHORIZE_PARAMS = ("appid", "redirect_uri", "response_type", "scope", "state")


@endpoint("connect/oauth2/authorize", methods=("GET",), auth="none")
def authorize(call: Call):
    """The page WeChat shows in the user's browser: asks for consent, then redirects with a code."""
    query = call.query
    app = call.app or app_by_appid(query.get("appid", ""))
    call.app = app
    redirect_uri = query.get("redirect_uri", "")
    scope = query.get("scope", "")
    if query.get("response_type") != "code" or scope not in SCOPES or not redirect_allowed(redirect_uri):
        return HttpResponse("redirect_uri 参数错误 / invalid request", status=400, content_type="text/plain; charset=utf-8")
    decision = query.get("decision")
    if decision not in ("allow", "deny"):
        followers = list(SandboxFollower.objects.filter(app=app).order_by("id").values_list("openid", flat=True)[:20])
        context = {
            "app": app,
            "scope": scope,
            "followers": followers,
            "new_openid": _new_openid(app),
            "params": [(name, query.get(name, "")) for name in AUTHORIZE_PARAMS],
        }
        return HttpResponse(render_to_string("sandbox/oauth_authorize.html", context))
    params = {"state": query.get("state", "")}
    if decision == "allow":
        openid = query.get("openid", "").strip() or _new_openid(app)
        grant = SandboxOAuthGrant.objects.create(
            app=app,
            openid=openid,
            scope=scope,
            is_snapshotuser=query.get("snapshot") == "1",
            code=secrets.token_hex(16),
            code_issued_at=call.now(),
        )
        params = {"code": grant.code, **params}
    separator = "&" if "?" in redirect_uri else "?"
    return HttpResponseRedirect(redirect_uri + separator + urlencode(params))


def redirect_allowed(redirect_uri: str) -> bool:
    """Only back to this site: an http(s) URL whose host is in ALLOWED_HOSTS (WeChat checks the account's
    web authorisation domain; the sandbox must not become an open redirect)."""
    parts = urlsplit(redirect_uri)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return (
        parts.scheme in ("http", "https")
        and bool(host)
        and url_has_allowed_host_and_scheme(redirect_uri, allowed_hosts={parts.netloc})
        and validate_host(host, settings.ALLOWED_HOSTS)
    )


def _new_openid(app) -> str:
    return "o" + app.appid[2:8] + secrets.token_urlsafe(15)[:21]


@endpoint("sns/oauth2/access_token", methods=("GET",), auth="none")
def access_token(call: Call) -> dict:
    query = call.query
    if query.get("grant_type") != "authorization_code":
        raise SandboxError(40002, "invalid grant_type")
    app = call.app or app_by_appid(query.get("appid", ""))
    if query.get("secret") != app.secret:
        raise SandboxError(40125)
    now = call.now()
    grant = SandboxOAuthGrant.objects.filter(app=app, code=query.get("code") or "-").first()
    if grant is None or now - grant.code_issued_at > CODE_TTL:
        raise SandboxError(40029, "invalid code")
    if not SandboxOAuthGrant.objects.filter(pk=grant.pk, code_used_at__isnull=True).update(code_used_at=now):
        raise SandboxError(40163, "code been used")
    grant.code_used_at = now
    grant.access_token = secrets.token_urlsafe(64)[:86]
    grant.access_expires_at = now + ACCESS_TTL
    grant.refresh_token = secrets.token_urlsafe(64)[:86]
    grant.refresh_expires_at = now + REFRESH_TTL
    grant.save()
    return _token_body(grant)


def _token_body(grant: SandboxOAuthGrant) -> dict:
    body = {
        "access_token": grant.access_token,
        "expires_in": int(ACCESS_TTL.total_seconds()),
        "refresh_token": grant.refresh_token,
        "openid": grant.openid,
        "scope": grant.scope,
    }
    if grant.is_snapshotuser:
        body["is_snapshotuser"] = 1
    unionid = SandboxFollower.objects.filter(app=grant.app, openid=grant.openid).values_list("unionid", flat=True).first()
    if unionid:
        body["unionid"] = unionid
    return body


@endpoint("sns/oauth2/refresh_token", methods=("GET",), auth="none")
def refresh_token(call: Call) -> dict:
    query = call.query
    if query.get("grant_type") != "refresh_token":
        raise SandboxError(40002, "invalid grant_type")
    app = call.app or app_by_appid(query.get("appid", ""))
    grant = SandboxOAuthGrant.objects.filter(app=app, refresh_token=query.get("refresh_token") or "-").first()
    if grant is None:
        raise SandboxError(40030, "invalid refresh_token")
    now = call.now()
    if grant.refresh_expires_at <= now:
        raise SandboxError(42002, "refresh_token expired")
    grant.access_token = secrets.token_urlsafe(64)[:86]
    grant.access_expires_at = now + ACCESS_TTL
    grant.save(update_fields=["access_token", "access_expires_at"])
    return _token_body(grant)


def _grant_for_token(call: Call) -> SandboxOAuthGrant:
    token = call.query.get("access_token", "")
    if not token:
        raise SandboxError(41001)
    grant = SandboxOAuthGrant.objects.select_related("app").filter(access_token=token).first()
    if grant is None:
        raise SandboxError(40001, "invalid credential, access_token is invalid or not latest")
    call.app = grant.app
    if grant.access_expires_at <= call.now():
        raise SandboxError(42001)
    if call.query.get("openid") != grant.openid:
        raise SandboxError(40003, "invalid openid")
    return grant


@endpoint("sns/userinfo", methods=("GET",), auth="none")
def userinfo(call: Call) -> dict:
    grant = _grant_for_token(call)
    if grant.scope != "snsapi_userinfo":
        raise SandboxError(48001)
    body = {
        "openid": grant.openid,
        "nickname": f"微信用户{grant.openid[-4:]}",
        # Since 2021-10-20 WeChat returns sex 0 and empty region fields.
        "sex": 0,
        "province": "",
        "city": "",
        "country": "",
        "headimgurl": "",
        "privilege": [],
    }
    unionid = SandboxFollower.objects.filter(app=grant.app, openid=grant.openid).values_list("unionid", flat=True).first()
    if unionid:
        body["unionid"] = unionid
    return body


@endpoint("sns/auth", methods=("GET",), auth="none")
def auth(call: Call) -> dict:
    _grant_for_token(call)
    return {"errcode": 0, "errmsg": "ok"}
