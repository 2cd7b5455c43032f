"""Which WeChat API base URLs an account may use: whoever answers there receives the account's AppSecret.

Every allowed base comes from deployment settings, never from an operator (DESIGN §6). ``wechat.http`` refuses a
call to any other base; the account form validates the field with the same rule.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

from django.conf import settings

LOCAL_SANDBOX = re.compile(r"http://(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}/sandbox/")


def _base_normalised(url: str) -> str | None:
    """``scheme://host[:port]/path/`` with a lower-case scheme and host, or None for anything that is not a plain base URL."""
    try:
        parts = urlsplit((url or "").strip())
        parts.port  # noqa: B018  raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment or "\\" in url:
        return None
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"


def api_bases_allowed() -> list[str]:
    """The base URLs an account may use, all from deployment settings: the one every account uses by
    default, ``WECHAT_API_BASE_URL_ALLOWED``, and the in-process sandbox where it is enabled."""
    bases = [settings.WECHAT_API_BASE_URL, *settings.WECHAT_API_BASE_URL_ALLOWED]
    if settings.SANDBOX_ENABLED:
        bases.append(settings.SANDBOX_API_BASE_URL)
    return [base for base in map(_base_normalised, bases) if base]


def api_base_allowed(url: str) -> bool:
    """Whether ``url`` may receive an account's calls, and so its AppSecret."""
    return _allowed(
        url,
        settings.WECHAT_API_BASE_URL,
        tuple(settings.WECHAT_API_BASE_URL_ALLOWED),
        settings.SANDBOX_ENABLED,
        settings.SANDBOX_API_BASE_URL,
        settings.WECHAT_API_BASE_URL_ALLOW_LOCAL_SANDBOX,
    )


@functools.lru_cache(maxsize=256)
def _allowed(url: str, *_settings) -> bool:
    """Checked once per URL and settings (every call to WeChat asks); the settings are part of the key."""
    base = _base_normalised(url)
    if base is None:
        return False
    if base in api_bases_allowed():
        return True
    return settings.WECHAT_API_BASE_URL_ALLOW_LOCAL_SANDBOX and LOCAL_SANDBOX.fullmatch(base) is not None
