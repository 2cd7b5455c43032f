"""The raw call to WeChat: one request to one endpoint of the table, nothing about tokens.

``call(account, Endpoint.X, ...)`` checks that the account's base URL is on the deployment's allowed list
(``wechat.base_urls``; any other base gets no request at all, so no AppSecret), sends the request through
``wechat.transport`` with its timeouts, records it in ``ApiCallLog`` (buffered, see ``call_log``) and
turns every failure into a ``WeChatError``. Access tokens and the retry on a rejected one are the gateway's
business (``wechat.gateway.call``); the token store gets its values through ``wechat.api.basic``, which calls this
module directly.
"""

from __future__ import annotations

import json as jsonlib
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import call_log, signals, transport
from .api.endpoints import changes_state
from .base_urls import api_base_allowed
from .errors import BAD_RESPONSE, BASE_URL_REFUSED, CONNECTION_ERROR, TIMEOUT, WeChatError, WeChatTimeout

if TYPE_CHECKING:
    from .api.endpoints import Endpoint

logger = logging.getLogger(__name__)

WECHAT_HOST = "https://api.weixin.qq.com/"


class WeChatBaseURLRefused(WeChatError):
    """The account points at a base URL that is not on the allowed list: no request is made, no secret leaves."""

    def __init__(self, *, endpoint: str = ""):
        super().__init__(BASE_URL_REFUSED, "base URL not allowed", endpoint=endpoint)


def refuse_unless_allowed(account, full_url: str, endpoint: str) -> None:
    """Raise ``WeChatBaseURLRefused`` unless ``full_url`` lies under the account's base URL and that base is allowed."""
    if not (full_url.startswith(account.api_base) and api_base_allowed(account.api_base)):
        logger.warning(
            "wechat.base_url_refused",
            extra={"appid": account.appid, "host": urlsplit(full_url).hostname, "endpoint": endpoint},
        )
        raise WeChatBaseURLRefused(endpoint=endpoint)


def error_body(response) -> dict:
    """The JSON error body WeChat sent (some errors carry data, e.g. 45065 the existing msg_id)."""
    try:
        body = jsonlib.loads(response.content)
    except (AttributeError, TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def log_call(account, endpoint: str, method: str, errcode: int, errmsg: str, started: float) -> None:
    duration_ms = int((time.monotonic() - started) * 1000)
    call_log.record(
        account=account, endpoint=endpoint, method=method.upper(), errcode=errcode, errmsg=errmsg[:255], duration_ms=duration_ms
    )
    if errcode:
        logger.warning(
            "wechat.api_call", extra={"appid": account.appid, "endpoint": endpoint, "errcode": errcode, "ms": duration_ms}
        )
    if changes_state(endpoint, method):
        signals.wechat_state_changing_call.send(
            sender=account.__class__, account=account, endpoint=endpoint, method=method.upper(), errcode=errcode, errmsg=errmsg
        )


def call(
    account,
    endpoint: Endpoint,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    encoded_json: bytes | None = None,
    data: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
    access_token: str | None = None,
) -> dict | bytes:
    """One request. ``json`` is sent UTF-8 encoded with Chinese kept as is (WeChat requires it), ``encoded_json`` is
    a body already encoded so; ``files`` and ``data`` make a multipart form. Returns the decoded JSON object, or the
    bytes of a body that is not JSON (a media file). ``access_token`` is added to the query string; it is never logged."""
    spec = endpoint.value
    url = account.api_base + spec.path
    query = [(key, value) for key, value in (params or {}).items() if value is not None]
    if access_token is not None:
        query.append(("access_token", access_token))
    refuse_unless_allowed(account, url, spec.path)
    started = time.monotonic()
    errcode, errmsg = 0, ""
    try:
        body = headers = None
        if files is None and encoded_json is not None:
            body, headers = encoded_json, JSON_HEADERS
        elif files is None and json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
            headers = JSON_HEADERS
        response = transport.send(spec.method, url, query=query, body=body, headers=headers, form=data, files=files)
        if response.status >= 400:
            errcode, errmsg = BAD_RESPONSE, f"HTTP {response.status}"
            raise WeChatError(errcode, errmsg, endpoint=spec.path, response=error_body(response))
        try:
            result = jsonlib.loads(response.content.decode("utf-8", "ignore"), strict=False)
        except ValueError:
            return response.content
        if not isinstance(result, dict):
            errcode, errmsg = BAD_RESPONSE, "not a JSON object"
            raise WeChatError(errcode, errmsg, endpoint=spec.path)
        code = int(result.get("errcode") or 0)
        if code:
            errcode, errmsg = code, str(result.get("errmsg") or "")
            raise WeChatError(errcode, errmsg, endpoint=spec.path, response=result)
        return result
    # Transport errors carry no URL (it holds the access_token, or the AppSecret) and are not chained.
    except transport.TransportTimeout:
        errcode, errmsg = TIMEOUT, "timeout"
        raise WeChatTimeout("timeout", endpoint=spec.path) from None
    except transport.TransportError as exc:
        errcode, errmsg = CONNECTION_ERROR, exc.kind
        raise WeChatError(errcode, errmsg, endpoint=spec.path) from None
    finally:
        log_call(account, spec.path, spec.method, errcode, errmsg, started)


JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
