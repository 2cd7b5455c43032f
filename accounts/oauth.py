"""OAuth2 web login (网页授权, API.md §10): authorize URL, code exchange, user info and the visitor session.

A visitor logged in this way is not a Django user: the session holds, per account, the openid WeChat
vouched for (and the nickname, for snsapi_userinfo, which is never stored on the Follower).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from wechat.api import oauth as wechat_oauth
from wechat.api.endpoints import OAUTH_AUTHORIZE_PATH, OAUTH_AUTHORIZE_URL

SCOPES = ("snsapi_base", "snsapi_userinfo")
STATE_SESSION_KEY = "wechat_oauth_states"
VISITOR_SESSION_KEY = "wechat_visitors"
STATE_MAX_AGE = 600  # seconds a started login may take
STATES_KEPT = 5  # pending logins per session (several tabs)


def is_sandbox(account) -> bool:
    return account.is_sandbox or urlsplit(account.api_base).path.rstrip("/").endswith("/sandbox")


def authorize_base(account) -> str:
    """WeChat's authorize page, or the sandbox's for accounts that point at the sandbox."""
    if not is_sandbox(account):
        return OAUTH_AUTHORIZE_URL
    if account.api_base == settings.SANDBOX_API_BASE_URL:
        # The in-process sandbox has no host of its own: the browser reaches it on this site.
        return reverse("sandbox:api", kwargs={"api": OAUTH_AUTHORIZE_PATH})
    return account.api_base + OAUTH_AUTHORIZE_PATH


def authorize_url(*, account, redirect_uri: str, scope: str, state: str) -> str:
    base = authorize_base(account)
    return wechat_oauth.authorize_url(account=account, redirect_uri=redirect_uri, scope=scope, state=state, base=base)


def state_new() -> str:
    """a-zA-Z0-9 only and well under 128 bytes, as WeChat requires."""
    return get_random_string(32)


def state_remember(session, *, state: str, appid: str, next_url: str, scope: str) -> None:
    states = dict(session.get(STATE_SESSION_KEY) or {})
    states[state] = {"appid": appid, "next": next_url, "scope": scope, "at": int(timezone.now().timestamp())}
    newest = sorted(states.items(), key=lambda item: item[1]["at"])[-STATES_KEPT:]
    session[STATE_SESSION_KEY] = dict(newest)


def state_take(session, *, state: str, appid: str) -> dict | None:
    """The pending login for ``state``, removed so it cannot be used twice; None if missing, wrong or stale."""
    states = dict(session.get(STATE_SESSION_KEY) or {})
    entry = states.pop(state, None) if state else None
    session[STATE_SESSION_KEY] = states
    if entry is None or entry.get("appid") != appid:
        return None
    if timezone.now().timestamp() - entry.get("at", 0) > STATE_MAX_AGE:
        return None
    return entry


def _grant_answer(grant: wechat_oauth.OAuthGrant) -> dict:
    """The grant with WeChat's field names; unionid and is_snapshotuser only where WeChat sends them."""
    answer = {
        "access_token": grant.access_token,
        "expires_in": grant.expires_in,
        "refresh_token": grant.refresh_token,
        "openid": grant.openid,
        "scope": grant.scope,
    }
    if grant.is_snapshotuser:
        answer["is_snapshotuser"] = 1
    if grant.unionid:
        answer["unionid"] = grant.unionid
    return answer


def code_exchange(*, account, code: str) -> dict:
    """sns/oauth2/access_token: raises WeChatError (40029 invalid or expired code, 40163 code already used)."""
    return _grant_answer(wechat_oauth.code_exchange(account=account, code=code))


def token_refresh(*, account, refresh_token: str) -> dict:
    return _grant_answer(wechat_oauth.grant_refresh(account=account, refresh_token=refresh_token))


def userinfo_fetch(*, account, access_token: str, openid: str) -> dict:
    """sns/userinfo (snsapi_userinfo only). Since 2021-10-20 sex and region come back empty."""
    return dict(wechat_oauth.userinfo(account=account, access_token=access_token, openid=openid))


def visitor_login(request, *, account, openid: str, scope: str, unionid: str = "", nickname: str = "") -> None:
    """Log the visitor in for this account: a new session key (no fixation), then who they are."""
    pending = request.session.get(STATE_SESSION_KEY)
    visitors = dict(request.session.get(VISITOR_SESSION_KEY) or {})
    request.session.cycle_key()
    visitors[account.appid] = {
        "openid": openid,
        "unionid": unionid,
        "scope": scope,
        "nickname": nickname,
        "at": timezone.now().isoformat(),
    }
    request.session[VISITOR_SESSION_KEY] = visitors
    if pending:
        request.session[STATE_SESSION_KEY] = pending


def visitor(request, *, account) -> dict | None:
    return (request.session.get(VISITOR_SESSION_KEY) or {}).get(account.appid)


def visitor_logout(request, *, account) -> None:
    visitors = dict(request.session.get(VISITOR_SESSION_KEY) or {})
    visitors.pop(account.appid, None)
    request.session[VISITOR_SESSION_KEY] = visitors
