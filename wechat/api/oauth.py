"""OAuth2 web authorization (网页授权, API.md §10): the authorize URL and the sns/* calls.

The login flow itself (state, session, views) is the accounts app's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import urlencode

from wechat import gateway
from wechat.errors import WeChatError

from .endpoints import OAUTH_AUTHORIZE_URL, Endpoint


@dataclass(frozen=True)
class OAuthGrant:
    access_token: str
    expires_in: int
    refresh_token: str
    openid: str
    scope: str
    unionid: str = ""
    is_snapshotuser: bool = False  # a "snapshot" visitor of the page who has not really authorized


class OAuthUser(TypedDict, total=False):
    openid: str
    nickname: str
    sex: int
    province: str
    city: str
    country: str
    headimgurl: str
    privilege: list[str]
    unionid: str


def authorize_url(*, account, redirect_uri: str, scope: str, state: str, base: str | None = None) -> str:
    """The page the visitor's browser goes to; ``base`` replaces WeChat's page (the sandbox's for sandbox accounts)."""
    query = urlencode(
        {"appid": account.appid, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope, "state": state}
    )
    # WeChat requires the fragment, even on a 302.
    return f"{base or OAUTH_AUTHORIZE_URL}?{query}#wechat_redirect"


def _grant(result: dict) -> OAuthGrant:
    return OAuthGrant(
        access_token=str(result.get("access_token", "")),
        expires_in=int(result.get("expires_in", 0) or 0),
        refresh_token=str(result.get("refresh_token", "")),
        openid=str(result.get("openid", "")),
        scope=str(result.get("scope", "")),
        unionid=str(result.get("unionid", "") or ""),
        is_snapshotuser=bool(result.get("is_snapshotuser", 0)),
    )


def code_exchange(*, account, code: str) -> OAuthGrant:
    """``sns/oauth2/access_token``: 40029 for an invalid or expired code, 40163 for a code used already."""
    params = {"appid": account.appid, "secret": account.app_secret, "code": code, "grant_type": "authorization_code"}
    return _grant(gateway.call(account, Endpoint.OAUTH_ACCESS_TOKEN, params=params))


def grant_refresh(*, account, refresh_token: str) -> OAuthGrant:
    """``sns/oauth2/refresh_token``: 42002 when the refresh token (30 days) has expired; authorize again."""
    params = {"appid": account.appid, "grant_type": "refresh_token", "refresh_token": refresh_token}
    return _grant(gateway.call(account, Endpoint.OAUTH_REFRESH, params=params))


def userinfo(*, account, access_token: str, openid: str, lang: str = "zh_CN") -> OAuthUser:
    """``sns/userinfo`` (snsapi_userinfo scope only). Since 2021-10-20 sex and region come back empty."""
    result = gateway.call(account, Endpoint.OAUTH_USERINFO, params={"openid": openid, "lang": lang}, access_token=access_token)
    return {key: value for key, value in result.items() if key not in ("errcode", "errmsg")}


def access_token_valid(*, account, access_token: str, openid: str) -> bool:
    """``sns/auth``: whether the visitor's access_token is still valid. Transient failures are raised."""
    try:
        gateway.call(account, Endpoint.OAUTH_AUTH, params={"openid": openid}, access_token=access_token)
    except WeChatError as exc:
        if exc.is_transient:
            raise
        return False
    return True
