"""The one door to the WeChat API.

``call(account, Endpoint.X, ...)`` is the raw entry that ``wechat.api.<domain>`` functions use: the raw call of
``wechat.http`` with the account's access_token and one retry when WeChat rejects the token.

``client_for(account)`` returns a wechatpy ``WeChatClient`` bound to one official account: its base URL
comes from the account (the sandbox or WeChat) and must be on the allowed list of the deployment
(``api_base_allowed``; any other base gets no request at all, so no AppSecret), its access_token from the central store in
``wechat.tokens``, every call is recorded in ``ApiCallLog`` (buffered, see ``call_log``), and failures are raised as ``WeChatError``.
Apps call wechatpy's typed APIs on it (``client.user.get(...)``) or ``client.post(path, data=...)``
for endpoints wechatpy lacks. An auth error (40001/40014/42001) invalidates exactly the token that
was used (``tokens.access_token_reject``) and the call is retried once with its replacement.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from wechatpy import WeChatClient
from wechatpy.client.base import BaseWeChatClient
from wechatpy.exceptions import WeChatClientException

from . import http, tokens, transport
from .api.endpoints import Auth, Endpoint

# The raw call lives in wechat.http, the base-URL allow-list in wechat.base_urls; these names stay importable from here.
from .base_urls import LOCAL_SANDBOX, api_base_allowed, api_bases_allowed  # noqa: F401
from .errors import BAD_RESPONSE, CONNECTION_ERROR, TIMEOUT, WeChatError, WeChatTimeout
from .http import WECHAT_HOST, WeChatBaseURLRefused  # noqa: F401

logger = logging.getLogger(__name__)


def call(account, endpoint: Endpoint, **kwargs: Any) -> dict | bytes:
    """The one raw entry of ``wechat.api``: ``wechat.http.call``, with the account's access_token for endpoints that
    take one (and one retry when WeChat rejects it, see ``tokens.call_with_access_token``)."""
    if endpoint.value.auth != Auth.TOKEN:
        return http.call(account, endpoint, **kwargs)
    return tokens.call_with_access_token(account, endpoint, **kwargs)


class AccountClient(WeChatClient):
    def __init__(self, account):
        super().__init__(account.appid, secret="", timeout=transport.timeout(), auto_retry=False)
        self.account = account
        # Per instance, never on the class: other accounts may point elsewhere (sandbox vs WeChat).
        self.API_BASE_URL = account.api_base + "cgi-bin/"
        self._http = transport.session()

    @property
    def access_token(self) -> str:
        return tokens.access_token_get(account=self.account)

    def fetch_access_token(self) -> str:
        return tokens.access_token_refresh(account=self.account)

    def _request(self, method, url_or_endpoint, **kwargs):
        url_or_endpoint = self._rebase(url_or_endpoint)
        if "api_base_url" in kwargs:
            kwargs["api_base_url"] = self._rebase(kwargs["api_base_url"])
        params = dict(kwargs.pop("params", None) or {})
        anonymous = kwargs.pop("anonymous", False) or "access_token" in params
        if anonymous:
            # A list of pairs, not a dict: wechatpy adds a token only to dict params.
            return self._call(method, url_or_endpoint, params=list(params.items()), **kwargs)
        used = tokens.access_token_get(account=self.account)
        try:
            return self._call(method, url_or_endpoint, params={**params, "access_token": used}, **kwargs)
        except WeChatError as exc:
            if not exc.is_auth:
                raise
            logger.info("wechat.token_rejected", extra={"appid": self.account.appid, "errcode": exc.errcode})
            fresh = tokens.access_token_reject(account=self.account, value=used)
            if fresh is None:
                raise
            # One retry: a second rejection is raised to the caller.
            return self._call(method, url_or_endpoint, params={**params, "access_token": fresh}, **kwargs)

    def _rebase(self, url: str) -> str:
        # wechatpy hard-codes the WeChat host for some APIs; keep them on the account's base URL.
        if url.startswith(WECHAT_HOST):
            return self.account.api_base + url[len(WECHAT_HOST) :]
        return url

    def _call(self, method, url_or_endpoint, **kwargs):
        full_url = url_or_endpoint
        if not url_or_endpoint.startswith(("http://", "https://")):
            full_url = kwargs.get("api_base_url", self.API_BASE_URL) + url_or_endpoint
        endpoint = full_url.split("?")[0].removeprefix(self.account.api_base)[:128]
        http.refuse_unless_allowed(self.account, full_url, endpoint)
        kwargs.setdefault("timeout", self.timeout)
        started = time.monotonic()
        errcode, errmsg = 0, ""
        try:
            return BaseWeChatClient._request(self, method, url_or_endpoint, **kwargs)
        # Transport errors are not chained: their text carries the request URL, access_token (or AppSecret)
        # included, and a logged traceback would print it.
        except WeChatClientException as exc:
            if exc.errcode is None:  # an HTTP error status, raised while handling requests' HTTPError
                status = getattr(exc.response, "status_code", None)
                errcode, errmsg = BAD_RESPONSE, f"HTTP {status}"
                raise WeChatError(errcode, errmsg, endpoint=endpoint, response=http.error_body(exc.response)) from None
            errcode, errmsg = int(exc.errcode), str(exc.errmsg or "")
            raise WeChatError(errcode, errmsg, endpoint=endpoint, response=http.error_body(exc.response)) from exc
        except requests.Timeout:
            errcode, errmsg = TIMEOUT, "timeout"
            raise WeChatTimeout("timeout", endpoint=endpoint) from None
        except requests.RequestException as exc:
            errcode, errmsg = CONNECTION_ERROR, type(exc).__name__
            raise WeChatError(errcode, errmsg, endpoint=endpoint) from None
        finally:
            http.log_call(self.account, endpoint, method, errcode, errmsg, started)

    # Endpoints wechatpy does not have, or builds with a fixed host.

    def fetch_token(self, *, secret: str) -> dict:
        return self.get(
            "token", params={"grant_type": "client_credential", "appid": self.appid, "secret": secret}, anonymous=True
        )

    def fetch_stable_token(self, *, secret: str, force_refresh: bool = False) -> dict:
        return self.post(
            "stable_token",
            data={"grant_type": "client_credential", "appid": self.appid, "secret": secret, "force_refresh": force_refresh},
            anonymous=True,
        )

    def fetch_jsapi_ticket(self) -> dict:
        return self.get("ticket/getticket", params={"type": "jsapi"})

    def callback_ips(self) -> list[str]:
        return self.get("getcallbackip")["ip_list"]

    def api_url(self, path: str) -> str:
        """Absolute URL of an endpoint outside /cgi-bin/ (e.g. ``sns/oauth2/access_token``)."""
        return self.account.api_base + path.lstrip("/")


def client_for(account) -> AccountClient:
    return AccountClient(account)
