"""JS-SDK ``wx.config`` signature (API.md §10). Pure: no network, no database."""

from __future__ import annotations

import hashlib
import secrets
import string

_NONCE_ALPHABET = string.ascii_letters + string.digits


def jssdk_signature(*, ticket: str, noncestr: str, timestamp: int | str, url: str) -> str:
    """sha1 of ``jsapi_ticket=…&noncestr=…&timestamp=…&url=…`` (keys in ASCII order, values not URL-encoded).

    ``url`` is the full page URL; anything from ``#`` on is dropped, as WeChat requires.
    """
    page = url.split("#", 1)[0]
    string1 = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={page}"
    return hashlib.sha1(string1.encode("utf-8")).hexdigest()


def jssdk_nonce(length: int = 16) -> str:
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))
