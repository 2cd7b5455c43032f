"""HTTP sessions for calls to WeChat: pooled, one per thread, with the configured adapters mounted."""

import logging
import re
import threading

import requests
from django.conf import settings
from django.utils.module_loading import import_string
from requests.adapters import HTTPAdapter

_local = threading.local()

# Query parameters that are credentials: WeChat takes access_token (and, for /cgi-bin/token, the AppSecret) in the URL.
_CREDENTIAL_PARAM = re.compile(r"\b(access_token|secret|refresh_token)=[^&\s'\"]*")


def redact_credentials(text: str) -> str:
    return _CREDENTIAL_PARAM.sub(r"\1=***", text)


class RedactCredentials(logging.Filter):
    """urllib3 logs request lines and retried or redirected URLs, query string included; keep credentials out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_credentials(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact_credentials(record.msg)
        return True


for _name in ("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(RedactCredentials())


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
