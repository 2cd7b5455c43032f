"""HTTP for calls to WeChat.

``send`` is the path of every call the gateway makes: one HTTP/1.1 exchange on kept-alive connections pooled per
process and shared by its threads, with no automatic retries (a retried POST could send a message twice: retry
policy lives in the tasks) and no redirects. ``http.client`` opens the connections (proxy tunnel, TLS); the request
is written as bytes and the answer read by ``_exchange`` (status line, headers, a Content-Length, chunked or
read-to-close body). A call costs about half of what ``http.client``'s exchange did (0.23 against 0.40 cpu-ms in a
loop of template sends, JSON included), which matters when a push sends many messages a second. URLs under a prefix
with an adapter of its own (``WECHAT_TRANSPORT_ADAPTERS``: the in-process sandbox; tests mount more) go through the
thread's ``requests`` session, which also serves multipart uploads and wechatpy.
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
_idle: dict[tuple[str, str], list[socket.socket]] = {}
_idle_lock = threading.Lock()

# Bounds on what a server may send before its body: a status line or header line, and the number of header lines.
MAX_LINE = 65536
MAX_HEADERS = 100
_NOT_IN_TARGET = re.compile(r"[\x00-\x20\x7f]")
_NOT_IN_HEADER = re.compile(r"[\r\n\x00]")


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


def _open(scheme: str, netloc: str) -> socket.socket:
    """A connected socket to the origin: through the proxy's CONNECT tunnel when one is set, TLS for https."""
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
    conn.connect()  # http.client opens it (tunnel, TLS handshake); the exchanges on it are ``_exchange``'s
    sock, conn.sock = conn.sock, None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(read_timeout)
    return sock


def _checkout(scheme: str, netloc: str) -> socket.socket:
    """An idle connection to the origin that the server has not closed meanwhile, or a new one."""
    while True:
        with _idle_lock:
            idle = _idle.get((scheme, netloc))
            sock = idle.pop() if idle else None
        if sock is None:
            return _open(scheme, netloc)
        if not wait_for_read(sock, timeout=0.0):
            return sock
        sock.close()  # closed by the server (readable: EOF), or sent something unasked: not reusable


def _checkin(scheme: str, netloc: str, sock: socket.socket) -> None:
    with _idle_lock:
        idle = _idle.setdefault((scheme, netloc), [])
        if len(idle) < POOL_MAXSIZE:
            idle.append(sock)
            return
    sock.close()


def _request_bytes(method: str, host: str, target: str, body: bytes | None, headers: dict) -> bytes:
    if _NOT_IN_TARGET.search(target) or any(_NOT_IN_HEADER.search(f"{k}{v}") for k, v in headers.items()):
        raise ValueError("control characters in the request line or a header")  # never sent: it would split the request
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Accept-Encoding: identity"]
    lines += [f"{key}: {value}" for key, value in headers.items()]
    if body is not None or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body or b'')}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + body if body else head


class _Reader:
    """The bytes a server sends on one connection, read as HTTP/1.1 wants them: lines, exact lengths, or to the end."""

    __slots__ = ("buffer", "sock")

    def __init__(self, sock: socket.socket):
        self.sock, self.buffer = sock, bytearray()

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n", 0, MAX_LINE + 2)) < 0:
            if len(self.buffer) > MAX_LINE:
                raise http.client.LineTooLong("header line")
            if not self._fill():
                raise http.client.RemoteDisconnected("closed before a complete answer")
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        return line

    def exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            if not self._fill():
                raise http.client.IncompleteRead(bytes(self.buffer), n - len(self.buffer))
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def to_the_end(self) -> bytes:
        while self._fill():
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def chunked(self) -> bytes:
        body = bytearray()
        while True:
            try:
                size = int(self.line().split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise http.client.IncompleteRead(bytes(body)) from None
            if size == 0:
                while self.line():  # trailer fields, up to the empty line
                    pass
                return bytes(body)
            body += self.exactly(size)
            if self.exactly(2) != b"\r\n":
                raise http.client.IncompleteRead(bytes(body))


def _exchange(sock: socket.socket, request: bytes, method: str) -> tuple[int, bytes, bool]:
    """Send one request and read its answer: (status, body, whether the connection may carry another request)."""
    sock.sendall(request)
    reader = _Reader(sock)
    while True:
        version, _, rest = reader.line().partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise http.client.BadStatusLine("not an HTTP/1.x status line")
        status = int(code)
        fields: dict[bytes, bytes] = {}
        for _n in range(MAX_HEADERS + 1):
            if not (line := reader.line()):
                break
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length" and fields.get(name, value) != value:
                raise http.client.HTTPException("conflicting Content-Length")
            fields[name] = value
        else:
            raise http.client.HTTPException("too many header fields")
        if not (100 <= status < 200) or status == 101:
            break  # an interim answer (100 Continue) is followed by the real one
    tokens = {t.strip() for t in fields.get(b"connection", b"").lower().split(b",")}
    reusable = b"close" not in tokens and (version != b"HTTP/1.0" or b"keep-alive" in tokens)
    if method == "HEAD" or status in (204, 304):
        body = b""
    elif fields.get(b"transfer-encoding", b"").lower().rsplit(b",", 1)[-1].strip() == b"chunked":
        body = reader.chunked()
    elif b"content-length" in fields:
        try:
            length = int(fields[b"content-length"])
        except ValueError:
            raise http.client.HTTPException("invalid Content-Length") from None
        body = reader.exactly(length)
    else:
        body, reusable = reader.to_the_end(), False
    return status, body, reusable and not reader.buffer  # bytes past the answer: out of step, not reused


def _send_direct(method: str, url: str, *, query, body: bytes | None, headers: dict | None) -> Reply:
    """One request on a pooled keep-alive connection: never retried, never redirected."""
    parts = urlsplit(url)
    target = parts.path + (f"?{urlencode(query)}" if query else "")
    if parts.scheme == "http" and settings.WECHAT_HTTPS_PROXY:
        target = f"http://{parts.netloc}{target}"  # a plain-HTTP request through the proxy names its origin
    request = _request_bytes(method, parts.netloc, target, body, {**DEFAULT_HEADERS, **(headers or {})})
    try:
        sock = _checkout(parts.scheme, parts.netloc)
    except TimeoutError:
        raise TransportTimeout() from None
    except OSError as exc:
        raise TransportError(type(exc).__name__ if isinstance(exc, ssl.SSLError) else "ConnectionError") from None
    try:
        status, content, reusable = _exchange(sock, request, method)
    except TimeoutError:
        sock.close()
        raise TransportTimeout() from None
    except (OSError, http.client.HTTPException) as exc:
        sock.close()
        raise TransportError(type(exc).__name__) from None
    if reusable:
        _checkin(parts.scheme, parts.netloc, sock)
    else:
        sock.close()
    return Reply(status, content)


DEFAULT_HEADERS = {"User-Agent": "wxsite/1.0"}


def _adapted(url: str) -> bool:
    """Whether ``url`` lies under a prefix with its own requests adapter (the in-process sandbox, a test's).

    A thread without a session yet would build one with the settings' adapters only: those are read directly, so
    a push's new sending threads build no session just to learn that they need none."""
    s = getattr(_local, "session", None)
    prefixes = settings.WECHAT_TRANSPORT_ADAPTERS if s is None else s.adapters
    return any(url.startswith(prefix) for prefix in prefixes if prefix not in ("https://", "http://"))


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
