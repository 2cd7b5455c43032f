"""HTTP for calls to WeChat.

``send`` is the path of every call the gateway makes: one urllib3 pool per process, shared by its threads, with
kept-alive connections, no automatic retries (a retried POST could send a message twice: retry policy lives in
the tasks) and no redirects. It costs a fraction of a ``requests`` call, which matters when a push sends a
thousand messages a second. URLs under a prefix with an adapter of its own (``WECHAT_TRANSPORT_ADAPTERS``: the
in-process sandbox; tests mount more) go through the thread's ``requests`` session, which also serves multipart
uploads and wechatpy.
"""

import logging
import re
import threading
from dataclasses import dataclass
from urllib.parse import urlencode

import certifi
import requests
import urllib3
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


@dataclass(frozen=True)
class Reply:
    status: int
    content: bytes


class TransportTimeout(Exception):
    """No answer in time: the request may have reached WeChat and taken effect."""


class TransportError(Exception):
    """No connection, or the connection broke; ``kind`` names what happened (never the URL: it holds credentials)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


_pool: urllib3.PoolManager | None = None
_pool_lock = threading.Lock()
# Connections kept per host: as many as a process has calls in flight (a push's threads), more are opened as needed.
POOL_MAXSIZE = 64


def _pool_manager() -> urllib3.PoolManager:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                options = {
                    "num_pools": 8,
                    "maxsize": POOL_MAXSIZE,
                    "retries": False,
                    "headers": {"User-Agent": "wxsite/1.0"},
                    "ca_certs": certifi.where(),
                }
                proxy = settings.WECHAT_HTTPS_PROXY
                _pool = urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)
    return _pool


def _adapted(url: str) -> bool:
    """Whether ``url`` lies under a prefix with its own requests adapter (the in-process sandbox, a test's)."""
    return any(url.startswith(prefix) for prefix in session().adapters if prefix not in ("https://", "http://"))


def send(method: str, url: str, *, query: list[tuple[str, str]], body: bytes | None = None, headers: dict | None = None) -> Reply:
    """One request; raises ``TransportTimeout`` or ``TransportError`` when no HTTP answer came back."""
    if _adapted(url):
        try:
            response = session().request(method, url, params=query, data=body, headers=headers, timeout=timeout())
        except requests.Timeout:
            raise TransportTimeout() from None
        except requests.RequestException as exc:
            raise TransportError(type(exc).__name__) from None
        return Reply(response.status_code, response.content)
    connect, read = timeout()
    full_url = f"{url}?{urlencode(query)}" if query else url
    try:
        response = _pool_manager().request(
            method,
            full_url,
            body=body,
            headers=headers,
            timeout=urllib3.Timeout(connect=connect, read=read),
            retries=False,
            redirect=False,
        )
    except urllib3.exceptions.NewConnectionError:
        raise TransportError("ConnectionError") from None
    except urllib3.exceptions.TimeoutError:
        raise TransportTimeout() from None
    except urllib3.exceptions.HTTPError as exc:
        raise TransportError(type(exc).__name__) from None
    return Reply(response.status, response.data)
