"""HTTP sessions for calls to WeChat: pooled, one per thread, with the configured adapters mounted."""

import threading

import requests
from django.conf import settings
from django.utils.module_loading import import_string
from requests.adapters import HTTPAdapter

_local = threading.local()


def session() -> requests.Session:
    s = getattr(_local, "session", None)
    if s is None:
        s = requests.Session()
        s.headers["User-Agent"] = "wxsite/1.0"
        # Proxies come from settings, not from the environment: requests would otherwise re-read the
        # proxy variables on every call.
        s.trust_env = False
        if settings.WECHAT_HTTPS_PROXY:
            s.proxies = {"https": settings.WECHAT_HTTPS_PROXY, "http": settings.WECHAT_HTTPS_PROXY}
        # No automatic retries: a retried POST could send a message twice; retry policy lives in tasks.
        s.mount("https://", HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0))
        s.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0))
        for prefix, dotted in settings.WECHAT_TRANSPORT_ADAPTERS.items():
            s.mount(prefix, import_string(dotted)())
        _local.session = s
    return s


def timeout() -> tuple[float, float]:
    return (settings.WECHAT_CONNECT_TIMEOUT, settings.WECHAT_READ_TIMEOUT)
