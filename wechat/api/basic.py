"""Access token, stable token and JS-SDK ticket (API.md §3, §10): how ``wechat.tokens`` gets its values.

These calls go straight to ``wechat.http`` and never ask the token store, so the store can use them without an
import cycle (calls that need a token, such as the callback IPs, are in ``wechat.api.network``).
wechatpy 1.8.18 has no stable_token; it is ours, in the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

from wechat import http

from .endpoints import Endpoint

DEFAULT_EXPIRES_IN = 7200
# Daily call quotas of a new account (API.md §3); the dashboard compares today's refreshes with them.
DAILY_QUOTA = {Endpoint.TOKEN: 2000, Endpoint.STABLE_TOKEN: 500_000}


@dataclass(frozen=True)
class Grant:
    value: str
    expires_in: int


def token_fetch(*, account) -> Grant:
    """``cgi-bin/token``: a new access_token (invalidates the previous one after a short overlap)."""
    params = {"grant_type": "client_credential", "appid": account.appid, "secret": account.app_secret}
    result = http.call(account, Endpoint.TOKEN, params=params)
    return Grant(result["access_token"], int(result.get("expires_in", DEFAULT_EXPIRES_IN)))


def stable_token_fetch(*, account, force_refresh: bool = False) -> Grant:
    """``cgi-bin/stable_token``: the current token while it is valid, a new one with ``force_refresh``.
    A normal request leaves ``force_refresh`` out, as WeChat's sample does (false is its default)."""
    body = {"grant_type": "client_credential", "appid": account.appid, "secret": account.app_secret}
    if force_refresh:
        body["force_refresh"] = True
    result = http.call(account, Endpoint.STABLE_TOKEN, json=body)
    return Grant(result["access_token"], int(result.get("expires_in", DEFAULT_EXPIRES_IN)))


def jsapi_ticket_fetch(*, account, access_token: str) -> Grant:
    """``cgi-bin/ticket/getticket?type=jsapi`` with the given access_token (the token store's own)."""
    result = http.call(account, Endpoint.TICKET_GET, params={"type": "jsapi"}, access_token=access_token)
    return Grant(result["ticket"], int(result.get("expires_in", DEFAULT_EXPIRES_IN)))
