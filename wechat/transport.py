"""HTTP for calls to WeChat.

``send`` is the path of every call the gateway makes: ``http.client`` on kept-alive connections pooled per
process and shared by its threads, with no automatic retries (a retried POST could send a message twice: retry
policy lives in the tasks) and no redirects. It costs about a third of a ``requests`` call, which matters when a
push sends many messages a second. URLs under a prefix with an adapter of its own (``WECHAT_TRANSPORT_ADAPTERS``: the
in-process sandbox; tests mount more) go through the thread's ``requests`` session, which also serves multipart
uploads and wechatpy.
"""

import functools
import http.client
import logging
import re
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import certifi
import requests
from django.conf import settings
from django.utils.module_loading import import_string
from requests.adapters import HTTPAdapter
from urllib3.util.wait import wait_for_read

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


# Idle kept-alive connections per origin, shared by the process's threads: as many as it has calls in flight
# (a push's threads) are kept; more are opened when needed and closed after use.
POOL_MAXSIZE = 64
_idle: dict[tuple[str, str], list[http.client.HTTPConnection]] = {}
_idle_lock = threading.Lock()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


def _open(scheme: str, netloc: str) -> http.client.HTTPConnection:
    connect_timeout, read_timeout = timeout()
    target = urlsplit(f"{scheme}://{netloc}")
    proxy = urlsplit(settings.WECHAT_HTTPS_PROXY) if settings.WECHAT_HTTPS_PROXY else None
    host, port = (proxy.hostname, proxy.port) if proxy else (target.hostname, target.port)
    if scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=connect_timeout, context=_tls_context())
        if proxy:
            conn.set_tunnel(target.hostname, target.port or 443)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.sock.settimeout(read_timeout)
    return conn


def _checkout(scheme: str, netloc: str) -> http.client.HTTPConnection:
    """An idle connection to the origin that the server has not closed meanwhile, or a new one."""
    while True:
        with _idle_lock:
            idle = _idle.get((scheme, netloc))
            conn = idle.pop() if idle else None
        if conn is None:
            return _open(scheme, netloc)
        if conn.sock is not None and not wait_for_read(conn.sock, timeout=0.0):
            return conn
        conn.close()  # closed by the server (readable: EOF), or sent something unasked: not reusable


def _checkin(scheme: str, netloc: str, conn: http.client.HTTPConnection) -> None:
    with _idle_lock:
        idle = _idle.setdefault((scheme, netloc), [])
        if len(idle) < POOL_MAXSIZE:
            idle.append(conn)
            return
    conn.close()


def _send_direct(method: str, url: str, *, query, body: bytes | None, headers: dict | None) -> Reply:
    """One request on a pooled keep-alive connection (``http.client``): never retried, never redirected."""
    parts = urlsplit(url)
    target = parts.path + (f"?{urlencode(query)}" if query else "")
    if parts.scheme == "http" and settings.WECHAT_HTTPS_PROXY:
        target = f"http://{parts.netloc}{target}"  # a plain-HTTP request through the proxy names its origin
    try:
        conn = _checkout(parts.scheme, parts.netloc)
    except TimeoutError:
        raise TransportTimeout() from None
    except OSError as exc:
        raise TransportError(type(exc).__name__ if isinstance(exc, ssl.SSLError) else "ConnectionError") from None
    try:
        conn.request(method, target, body=body, headers={**DEFAULT_HEADERS, **(headers or {})})
        response = conn.getresponse()
        content = response.read()
    except TimeoutError:
        conn.close()
        raise TransportTimeout() from None
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise TransportError(type(exc).__name__) from None
    if response.will_close:
        conn.close()
    else:
        _checkin(parts.scheme, parts.netloc, conn)
    return Reply(response.status, content)


DEFAULT_HEADERS = {"User-Agent": "wxsite/1.0"}


def _adapted(url: str) -> bool:
    """Whether ``url`` lies under a prefix with its own requests adapter (the in-process sandbox, a test's)."""
    return any(url.startswith(prefix) for prefix in session().adapters if prefix not in ("https://", "http://"))


def send(
    method: str,
    url: str,
    *,
    query: list[tuple[str, str]],
    body: bytes | None = None,
    headers: dict | None = None,
    form: dict | None = None,
    files: dict | None = None,
) -> Reply:
    """One request; raises ``TransportTimeout`` or ``TransportError`` when no HTTP answer came back. ``files`` (with
    ``form`` fields) make a multipart upload, built by the thread's requests session; so is any URL with an adapter
    of its own."""
    if files is None and not _adapted(url):
        return _send_direct(method, url, query=query, body=body, headers=headers)
    kwargs = {"files": files, "data": form} if files is not None else {"data": body, "headers": headers}
    try:
        response = session().request(method, url, params=query, timeout=timeout(), **kwargs)
    except requests.Timeout:
        raise TransportTimeout() from None
    except requests.RequestException as exc:
        raise TransportError(type(exc).__name__) from None
    return Reply(response.status_code, response.content)
